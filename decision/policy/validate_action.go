package policy

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ehigate/ehigate/decision"
)

// checkActionParams checks disclose_withholding, throttle and delay.
func (c *checker) checkActionParams(p *Policy) {
	ps := &c.ps
	if p.DiscloseWithholding != nil {
		switch {
		case p.Action != decision.Redact:
			p.problem(ps, "disclose_withholding", "applies only to redact")
		case !*p.DiscloseWithholding && strings.TrimSpace(p.Documentation.NondisclosureReason) == "":
			p.problem(ps, "documentation.nondisclosure_reason", "is required with disclose_withholding: false (why telling the requester that something was withheld would itself reveal the sensitive fact)")
		}
	}
	if p.Documentation.NondisclosureReason != "" && p.Disclose() {
		p.problem(ps, "documentation.nondisclosure_reason", "applies only with disclose_withholding: false")
	}
	switch {
	case p.Action == decision.Throttle && p.Throttle == nil:
		p.problem(ps, "throttle", "is required for action throttle (key, rate, burst, on_store_failure)")
	case p.Action != decision.Throttle && p.Throttle != nil:
		p.problem(ps, "throttle", "applies only to action throttle")
	case p.Throttle != nil:
		c.checkThrottle(p)
	}
	switch {
	case p.Action == decision.Delay && p.Delay == nil:
		p.problem(ps, "delay", "is required for action delay (form embargo or hold)")
	case p.Action != decision.Delay && p.Delay != nil:
		p.problem(ps, "delay", "applies only to action delay")
	case p.Delay != nil:
		c.checkDelay(p)
	}
}

func (c *checker) checkThrottle(p *Policy) {
	ps := &c.ps
	t := p.Throttle
	if !slices.Contains([]string{"subject", "client_id", "class", "patient", "global"}, t.Key) {
		p.problem(ps, "throttle.key", "want subject, client_id, class, patient or global, got %q", t.Key)
	}
	m := rateRE.FindStringSubmatch(t.Rate)
	if m == nil {
		p.problem(ps, "throttle.rate", "want requests per second, minute or hour such as 10/s or 600/m, got %q", t.Rate)
	} else {
		n, _ := strconv.ParseFloat(m[1], 64)
		per := map[string]float64{"s": 1, "m": 60, "h": 3600}[m[2]]
		if p.rate = n / per; p.rate <= 0 {
			p.problem(ps, "throttle.rate", "must be positive")
		}
	}
	if t.Burst < 0 {
		p.problem(ps, "throttle.burst", "must not be negative")
	}
	if t.OnStoreFailure != "allow" && t.OnStoreFailure != "deny" {
		p.problem(ps, "throttle.on_store_failure", "is required: allow or deny (what to do when the shared limiter store is unreachable)")
	}
}

func (c *checker) checkDelay(p *Policy) {
	ps := &c.ps
	d := p.Delay
	switch d.Form {
	case "embargo":
		if p.Match.ResourceWhen == "" {
			p.problem(ps, "match.resource_when", "is required for an embargo (which resources are held back)")
		}
		if d.ReleaseAfter <= 0 {
			p.problem(ps, "delay.release_after", "is required for an embargo (e.g. 72h)")
		}
		if d.From == "" {
			p.problem(ps, "delay.from", "is required for an embargo (the resource date element, e.g. issued)")
		} else if !elementRE.MatchString(d.From) {
			p.problem(ps, "delay.from", "want a date element path such as issued or effectivePeriod.start, got %q", d.From)
		}
		if d.HoldFor != 0 || d.Release != "" {
			p.problem(ps, "delay", "hold_for and release apply only to form hold")
		}
	case "hold":
		switch {
		case d.Release != "" && d.Release != "staff":
			p.problem(ps, "delay.release", "want staff, got %q", d.Release)
		case d.HoldFor < 0:
			p.problem(ps, "delay.hold_for", "must be positive")
		case d.HoldFor == 0 && d.Release == "":
			p.problem(ps, "delay.hold_for", "is required for a hold unless release: staff (e.g. 24h)")
		}
		if d.ReleaseAfter != 0 || d.From != "" {
			p.problem(ps, "delay", "release_after and from apply only to form embargo")
		}
	default:
		p.problem(ps, "delay.form", "want embargo or hold, got %q", d.Form)
	}
}
