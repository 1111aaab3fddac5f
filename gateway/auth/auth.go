package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ehigate/ehigate/decision"
)

// refusalTTL is how long a refused token is answered from memory.
const refusalTTL = 5 * time.Second

// Authenticator identifies requesters from their bearer tokens. It is
// safe for concurrent use; Close stops its background JWKS refreshes.
type Authenticator struct {
	opts     Options
	issuers  map[string]*issuer
	intros   []*issuer // issuers with an introspection endpoint, in order
	parser   *jwt.Parser
	unparsed *jwt.Parser // reads claims without verifying (passthrough)
	cache    *cache
	cancel   context.CancelFunc
}

// issuer is one configured authorization server, ready to verify.
type issuer struct {
	cfg   Issuer
	algs  map[string]bool
	keys  keyfunc.Keyfunc // nil without a JWKS URL (or outside verify mode)
	intro *introspector
}

// New builds an Authenticator. In verify mode it fetches each issuer's
// JWKS once before returning (an unreachable JWKS is logged and retried
// later, not fatal); ctx bounds the background refreshes, as does Close.
func New(ctx context.Context, opts Options) (*Authenticator, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	a := &Authenticator{
		opts:     opts,
		issuers:  make(map[string]*issuer, len(opts.Issuers)),
		unparsed: jwt.NewParser(),
		cache:    newCache(opts.CacheSize),
		cancel:   cancel,
	}
	var algs []string
	for _, cfg := range opts.Issuers {
		is := &issuer{cfg: cfg, algs: make(map[string]bool, len(cfg.Algorithms))}
		for _, alg := range cfg.Algorithms {
			is.algs[alg] = true
			if !contains(algs, alg) {
				algs = append(algs, alg)
			}
		}
		if opts.Mode == ModeVerify && cfg.JWKSURL != "" {
			kf, err := a.keyfunc(ctx, cfg)
			if err != nil {
				cancel()
				return nil, err
			}
			is.keys = kf
		}
		if cfg.Introspection != nil {
			is.intro = &introspector{cfg: *cfg.Introspection, client: opts.HTTPClient}
			a.intros = append(a.intros, is)
		}
		a.issuers[cfg.Issuer] = is
	}
	a.parser = jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithLeeway(opts.Leeway),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(opts.Clock),
	)
	return a, nil
}

// Close stops background work.
func (a *Authenticator) Close() error {
	a.cancel()
	return nil
}

// Mode returns the mode the Authenticator runs in.
func (a *Authenticator) Mode() Mode { return a.opts.Mode }

// Identify reads the requester from r's bearer token. A request without a
// token gets an anonymous requester and no error (whether anonymous
// requests are acceptable is the caller's rule). A token that is refused
// gives an error matching ErrInvalidToken (a *TokenError) and a requester
// carrying only the token's hash.
func (a *Authenticator) Identify(r *http.Request) (decision.Requester, error) {
	if a.opts.Mode == ModeOff {
		return decision.Requester{}, nil
	}
	tok, err := a.token(r)
	if err != nil {
		a.refusal(err, "")
		return decision.Requester{}, err
	}
	if tok == "" {
		return decision.Requester{}, nil
	}
	now := a.opts.Clock()
	key := tokenKey(sha256.Sum256([]byte(tok)))
	if e, ok := a.cache.get(key, now); ok {
		return e.who, e.err
	}
	who, till, err := a.identify(r.Context(), tok, now)
	if err != nil {
		who = decision.Requester{TokenHash: hex.EncodeToString(key[:])}
		a.refusal(err, who.TokenHash)
		till = time.Time{}
		if te := (*TokenError)(nil); errors.As(err, &te) && te.Reason != ReasonIntrospection && te.Reason != ReasonNotYetValid {
			till = now.Add(refusalTTL)
		}
	}
	a.cache.put(key, cached{who: who, err: err, till: till}, now)
	return who, err
}

func (a *Authenticator) refusal(err error, hash string) {
	reason := ReasonInvalid
	if te := (*TokenError)(nil); errors.As(err, &te) {
		reason = te.Reason
	}
	a.opts.Logger.Debug("token refused", "reason", reason, "token_hash", hash)
}

// identify verifies (or, in passthrough mode, reads) a token and returns
// the requester and until when it may be remembered.
func (a *Authenticator) identify(ctx context.Context, tok string, now time.Time) (decision.Requester, time.Time, error) {
	if a.opts.Mode == ModePassthrough {
		who, till := a.unverified(tok, now)
		return who, till, nil
	}
	if strings.Count(tok, ".") == 2 {
		return a.verifyJWT(ctx, tok, now)
	}
	return a.introspectAny(ctx, tok, now)
}

// token returns the bearer token of r ("" for none): from the
// Authorization header, or from the access_token query parameter when
// that is allowed. A request using both, or a token in the query when it
// is not allowed, is refused; so is a token over MaxTokenBytes or outside
// the RFC 6750 b64token alphabet.
func (a *Authenticator) token(r *http.Request) (string, error) {
	var tok string
	hs := r.Header.Values("Authorization")
	switch len(hs) {
	case 0:
	case 1:
		h := hs[0]
		if len(h) > a.opts.MaxTokenBytes+len("Bearer ") {
			return "", refused(ReasonTooLarge, nil)
		}
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			if a.opts.Mode == ModePassthrough {
				return "", nil // another scheme: the EHR decides
			}
			return "", refused(ReasonScheme, nil)
		}
		tok = strings.TrimLeft(rest, " ")
		if tok == "" {
			return "", refused(ReasonMalformed, nil)
		}
	default:
		return "", refused(ReasonMalformed, nil)
	}
	if q, ok := queryToken(r.URL.RawQuery); ok {
		switch {
		case !a.opts.AllowQueryToken:
			return "", refused(ReasonQueryToken, nil)
		case tok != "":
			return "", refused(ReasonMalformed, nil) // RFC 6750 §2: one method only
		}
		tok = q
	}
	if len(tok) > a.opts.MaxTokenBytes {
		return "", refused(ReasonTooLarge, nil)
	}
	if tok != "" && !b64token(tok) {
		return "", refused(ReasonMalformed, nil)
	}
	return tok, nil
}

// queryToken returns the access_token query parameter, if present. Keys
// are compared decoded, so that an escaped spelling does not slip by; a
// parameter given twice is returned joined, to be refused as malformed.
func queryToken(raw string) (string, bool) {
	var tok string
	found := false
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
		}
		if k != "access_token" {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		if found {
			return tok + " " + v, true
		}
		tok, found = v, true
	}
	return tok, found
}

// b64token reports whether s is an RFC 6750 b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func b64token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
