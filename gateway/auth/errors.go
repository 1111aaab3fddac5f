package auth

import "errors"

// ErrInvalidToken is matched (errors.Is) by every error Identify returns.
var ErrInvalidToken = errors.New("auth: invalid token")

// The reasons a token is refused, as TokenError.Reason.
const (
	ReasonMalformed      = "malformed"
	ReasonTooLarge       = "too-large"
	ReasonQueryToken     = "query-token"
	ReasonScheme         = "unsupported-scheme"
	ReasonUnknownIssuer  = "unknown-issuer"
	ReasonAlgorithm      = "algorithm-not-allowed"
	ReasonUnknownKey     = "unknown-key"
	ReasonSignature      = "bad-signature"
	ReasonExpired        = "expired"
	ReasonNotYetValid    = "not-yet-valid"
	ReasonIssuedInFuture = "issued-in-future"
	ReasonMissingClaim   = "missing-claim"
	ReasonAudience       = "wrong-audience"
	ReasonInactive       = "inactive"
	ReasonIntrospection  = "introspection-failed"
	ReasonOpaque         = "opaque-not-accepted"
	ReasonInvalid        = "invalid"
)

// TokenError says why a token was refused. Its message holds the reason
// only, never any part of the token; the underlying cause is reachable with
// errors.Is and errors.As.
type TokenError struct {
	// Reason is one of the Reason constants.
	Reason string
	// Err is the cause, when there is one.
	Err error
}

// Error implements error.
func (e *TokenError) Error() string { return "auth: token refused: " + e.Reason }

// Unwrap returns ErrInvalidToken and the cause.
func (e *TokenError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidToken}
	}
	return []error{ErrInvalidToken, e.Err}
}

func refused(reason string, cause error) error { return &TokenError{Reason: reason, Err: cause} }
