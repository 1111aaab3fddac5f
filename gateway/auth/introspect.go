package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// maxIntrospectionBytes bounds an introspection response.
const maxIntrospectionBytes = 1 << 20

// defaultIntrospectionTTL is how long an active token without exp is
// remembered.
const defaultIntrospectionTTL = time.Minute

// introspector calls one RFC 7662 endpoint.
type introspector struct {
	cfg    Introspection
	client *http.Client
}

// errIntrospection is the cause of a failed call.
var errIntrospection = errors.New("auth: introspection failed")

// do asks the endpoint about tok and returns its answer.
func (in *introspector) do(ctx context.Context, tok string) (claims, error) {
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIntrospection, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.cfg.ClientID != "" {
		// RFC 6749 §2.3.1: form-encode both before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret))
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIntrospection, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("%w: status %d", errIntrospection, resp.StatusCode)
	}
	var c claims
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxIntrospectionBytes)).Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", errIntrospection, err)
	}
	return c, nil
}

// introspectAny asks each configured introspection endpoint in turn about
// an opaque token; the first that finds it active identifies it.
func (a *Authenticator) introspectAny(ctx context.Context, tok string, now time.Time) (decision.Requester, time.Time, error) {
	if len(a.intros) == 0 {
		return decision.Requester{}, time.Time{}, refused(ReasonOpaque, nil)
	}
	var last error
	for _, is := range a.intros {
		who, till, err := a.introspect(ctx, is, tok, now)
		if err == nil {
			return who, till, nil
		}
		var te *TokenError
		if last == nil || errors.As(err, &te) && te.Reason != ReasonInactive {
			last = err // a failure or a refusal outranks "inactive"
		}
	}
	return decision.Requester{}, time.Time{}, last
}

// introspect checks a token with issuer is's endpoint: it must be active,
// unexpired (within the leeway), already valid, of that issuer when the
// answer names one, and for the issuer's audience when the answer names
// one. It is remembered until its exp.
func (a *Authenticator) introspect(ctx context.Context, is *issuer, tok string, now time.Time) (decision.Requester, time.Time, error) {
	none := decision.Requester{}
	c, err := is.intro.do(ctx, tok)
	if err != nil {
		return none, time.Time{}, refused(ReasonIntrospection, err)
	}
	if active, _ := c["active"].(bool); !active {
		return none, time.Time{}, refused(ReasonInactive, nil)
	}
	till := now.Add(defaultIntrospectionTTL)
	if exp, ok := numericDate(c["exp"]); ok {
		if !now.Before(exp.Add(a.opts.Leeway)) {
			return none, time.Time{}, refused(ReasonExpired, nil)
		}
		till = exp
	}
	if nbf, ok := numericDate(c["nbf"]); ok && now.Add(a.opts.Leeway).Before(nbf) {
		return none, time.Time{}, refused(ReasonNotYetValid, nil)
	}
	if iss := c.str("iss"); iss != "" && iss != is.cfg.Issuer {
		return none, time.Time{}, refused(ReasonUnknownIssuer, nil)
	}
	if aud, ok := c["aud"]; ok && is.cfg.Audience != "" && !audienceHas(aud, is.cfg.Audience) {
		return none, time.Time{}, refused(ReasonAudience, nil)
	}
	return a.requester(c, is.cfg.Issuer, true, tok), till, nil
}

// numericDate reads a JSON NumericDate (seconds since the epoch).
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}

// audienceHas reports whether an aud value (a string or a list) holds want.
func audienceHas(aud any, want string) bool {
	switch t := aud.(type) {
	case string:
		return t == want
	case []any:
		return slices.ContainsFunc(t, func(e any) bool { s, _ := e.(string); return s == want })
	}
	return false
}
