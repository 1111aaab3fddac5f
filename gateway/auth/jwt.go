package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/ehigate/ehigate/decision"
)

// maxJWKSBytes bounds a JWKS document.
const maxJWKSBytes = 1 << 20

// The causes the key function reports.
var (
	errUnknownIssuer = errors.New("auth: issuer not configured")
	errAlgorithm     = errors.New("auth: algorithm not allowed for this issuer")
	errNoJWKS        = errors.New("auth: issuer has no JWKS")
)

// keyfunc builds the key source of one issuer: its JWKS, refreshed every
// RefreshInterval and, when a token names a kid it does not hold, at most
// once per UnknownKeyInterval. A request with an unknown kid waits at most
// KeyWait for that refresh; when the limiter has no refresh to give
// within that time it fails at once.
func (a *Authenticator) keyfunc(ctx context.Context, cfg Issuer) (keyfunc.Keyfunc, error) {
	client := *a.opts.HTTPClient
	client.Transport = limitBody{rt: client.Transport, max: maxJWKSBytes}
	log := a.opts.Logger
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:            &client,
		HTTPTimeout:       10 * time.Second,
		RateLimitWaitMax:  a.opts.KeyWait,
		RefreshInterval:   a.opts.RefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(a.opts.UnknownKeyInterval), 1),
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				log.Warn("JWKS refresh failed", "issuer", cfg.Issuer, "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS of issuer %q: %w", cfg.Issuer, err)
	}
	return kf, nil
}

// verifyJWT verifies a JWT access token: an allowed algorithm for its
// issuer, a signature by a key of the issuer's JWKS, exp (required), nbf
// and iat within the leeway, and the issuer's audience among aud. Tokens
// of an issuer that has no JWKS are introspected.
func (a *Authenticator) verifyJWT(ctx context.Context, tok string, now time.Time) (decision.Requester, time.Time, error) {
	var is *issuer
	t, err := a.parser.ParseWithClaims(tok, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
		iss, _ := t.Claims.GetIssuer()
		is = a.issuers[iss]
		switch {
		case is == nil:
			return nil, errUnknownIssuer
		case is.keys == nil:
			return nil, errNoJWKS
		case !is.algs[t.Method.Alg()]:
			return nil, errAlgorithm
		}
		return is.keys.KeyfuncCtx(ctx)(t)
	})
	if errors.Is(err, errNoJWKS) && is != nil && is.intro != nil {
		return a.introspect(ctx, is, tok, now)
	}
	if err != nil {
		return decision.Requester{}, time.Time{}, refused(jwtReason(err), err)
	}
	aud, _ := t.Claims.GetAudience()
	if !slices.Contains(aud, is.cfg.Audience) {
		return decision.Requester{}, time.Time{}, refused(ReasonAudience, nil)
	}
	exp, _ := t.Claims.GetExpirationTime() // required: present
	return a.requester(claims(t.Claims.(jwt.MapClaims)), is.cfg.Issuer, true, tok), exp.Time, nil
}

// jwtReason names why the jwt package refused a token.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, errUnknownIssuer), errors.Is(err, errNoJWKS):
		return ReasonUnknownIssuer
	case errors.Is(err, errAlgorithm):
		return ReasonAlgorithm
	case errors.Is(err, jwkset.ErrKeyNotFound):
		return ReasonUnknownKey
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ReasonMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ReasonSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return ReasonNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ReasonIssuedInFuture
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ReasonMissingClaim
	case errors.Is(err, keyfunc.ErrKeyfunc):
		return ReasonUnknownKey
	}
	return ReasonInvalid
}

// unverified reads the identity of a token without verifying it
// (passthrough mode). A token that is not a readable JWT identifies
// nobody but still gets a hash.
func (a *Authenticator) unverified(tok string, now time.Time) (decision.Requester, time.Time) {
	till := now.Add(5 * time.Minute)
	if strings.Count(tok, ".") == 2 {
		mc := jwt.MapClaims{}
		if _, _, err := a.unparsed.ParseUnverified(tok, mc); err == nil {
			if exp, err := mc.GetExpirationTime(); err == nil && exp != nil && exp.After(now) && exp.Before(till) {
				till = exp.Time
			}
			return a.requester(claims(mc), "", false, tok), till
		}
	}
	return decision.Requester{TokenHash: tokenHash("", tok)}, till
}

// limitBody caps response bodies read through a transport.
type limitBody struct {
	rt  http.RoundTripper
	max int64
}

func (l limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	rt := l.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, l.max), c: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	c io.Closer
}

func (b limitedBody) Close() error { return b.c.Close() }
