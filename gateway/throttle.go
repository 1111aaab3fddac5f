package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/gateway/throttle"
)

// Throttles are enforced before the decision is committed: a request
// that goes upstream now (allowed, redacted, or under an embargo) counts
// against the limit of every throttle policy in play. Over one, the
// decision becomes that policy's throttle: 429 with Retry-After and its
// notice. A parked request (hold) is not counted: it is not sent now.
//
// When the limiter's store cannot be reached the policy's
// on_store_failure applies and the record is flagged
// throttle-store-failure: allow lets the request go; deny answers it as
// over the limit (429, Retry-After), under the policy's own exception,
// since the refusal is the documented throttle failing closed, and is as
// transient as one over the limit.

// storeFailureRetry bounds the Retry-After of a request refused because
// the limiter's store could not be reached.
const storeFailureRetry = time.Second

// throttle counts the request against the limits in play.
func (x *exchange) throttle() {
	d := &x.dec
	if len(d.Limits) == 0 || d.Action == decision.Deny || x.parking() {
		return
	}
	var counted *decision.ThrottleRef
	for _, l := range d.Limits {
		key, ref := limitKey(l, &x.who, x.req)
		ok, wait, err := x.h.opts.Limiter.Allow(x.r.Context(), key, l.Rate, l.Burst)
		if err != nil {
			if !errors.Is(err, throttle.ErrUnavailable) && !errors.Is(err, throttle.ErrInvalid) {
				// The client went away: the request fails as it goes on.
				continue
			}
			if !slices.Contains(x.flags, decision.FlagThrottleStoreFailure) {
				x.flags = append(x.flags, decision.FlagThrottleStoreFailure)
			}
			x.h.log.WarnContext(x.r.Context(), "throttle not checked", "decision", x.id, "policy", l.Policy, "err", err)
			if l.OnStoreFailure == decision.Deny {
				x.overLimit(l, ref, min(max(storeFailureRetry, time.Duration(float64(time.Second)/l.Rate)), time.Minute))
				return
			}
			continue
		}
		if !ok {
			x.overLimit(l, ref, wait)
			return
		}
		if counted == nil {
			counted = ref
		}
	}
	d.Throttle = counted
	if d.Action == decision.Throttle {
		// Within every limit: the request goes on under the rest of the
		// decision.
		d.Action, d.Exception, d.Notice = decision.Allow, nil, decision.Notice{}
		if len(d.Redactions) > 0 {
			r := &d.Redactions[0]
			d.Action, d.Exception, d.Notice = decision.Redact, r.Exception, r.Notice
		}
	}
}

// overLimit makes the decision the throttle of limit l.
func (x *exchange) overLimit(l *decision.ThrottleSpec, ref *decision.ThrottleRef, wait time.Duration) {
	x.countThrottled(l.Policy)
	d := &x.dec
	d.Action, d.Exception, d.Notice, d.Throttle = decision.Throttle, l.Exception, l.Notice, ref
	d.RetryAfter = max(wait, time.Second)
	d.Withhold, d.Redactions, d.Duty, d.Delay = nil, nil, nil, nil
}

// limitKey returns the limiter's key for a request under l and the
// record's reference to the limit. Identities in the key (subject, client,
// patients) are hashed: neither Redis nor the record keeps them.
func limitKey(l *decision.ThrottleSpec, who *decision.Requester, req *fhir.Request) (string, *decision.ThrottleRef) {
	var v string
	switch l.Key {
	case "subject":
		v = hashed(who.Issuer + "\x00" + who.Subject)
	case "client_id":
		v = hashed(who.ClientID)
	case "class":
		v = string(who.Class)
		if v == "" {
			v = "unknown"
		}
	case "patient":
		if req != nil && len(req.Patients) > 0 {
			ps := slices.Clone(req.Patients)
			slices.Sort(ps)
			v = hashed(strings.Join(slices.Compact(ps), ","))
		} else {
			v = "none"
		}
	}
	k := l.Key
	if v != "" {
		k += ":" + v
	}
	return l.Policy + "|" + k, &decision.ThrottleRef{Policy: l.Policy, Key: k, Rate: l.Rate, Burst: l.Burst}
}

// hashed returns a truncated hex SHA-256 of an identity.
func hashed(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
