package policy

import (
	"time"

	"cel.dev/cel-go/interpreter"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// RequestVars are the variables of a when condition: request, requester
// and now. The maps are built on first use and shared by every condition
// evaluated for the same request.
type RequestVars struct {
	Req *fhir.Request
	Who *decision.Requester
	Now time.Time

	req, who map[string]any
}

var _ interpreter.Activation = (*RequestVars)(nil)

// ResolveName implements interpreter.Activation.
func (v *RequestVars) ResolveName(name string) (any, bool) {
	switch name {
	case "request":
		if v.req == nil {
			v.req = requestMap(v.Req)
		}
		return v.req, true
	case "requester":
		if v.who == nil {
			v.who = requesterMap(v.Who)
		}
		return v.who, true
	case "now":
		return v.Now, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (v *RequestVars) Parent() interpreter.Activation { return nil }

// requestMap exposes a request to CEL: interaction, method, resource_type,
// id, version_id, operation, compartment ("Patient/1"), patients,
// data_classes, params (name to values), format, async and entries (the
// interactions and resource types of batch/transaction entries).
func requestMap(r *fhir.Request) map[string]any {
	if r == nil {
		r = &fhir.Request{}
	}
	params := make(map[string]any, len(r.Params))
	for _, p := range r.Params {
		vs, _ := params[p.Name].([]string)
		params[p.Name] = append(vs, p.Values...)
	}
	entries := make([]any, 0, len(r.Entries))
	for i := range r.Entries {
		e := &r.Entries[i].Request
		entries = append(entries, map[string]any{"interaction": e.Interaction.String(), "resource_type": e.ResourceType, "id": e.ID})
	}
	comp := ""
	if !r.Compartment.IsZero() {
		comp = r.Compartment.Type + "/" + r.Compartment.ID
	}
	return map[string]any{
		"interaction":   r.Interaction.String(),
		"method":        r.Method,
		"resource_type": r.ResourceType,
		"id":            r.ID,
		"version_id":    r.VersionID,
		"operation":     r.Operation,
		"compartment":   comp,
		"patients":      nonNil(r.Patients),
		"data_classes":  nonNil(r.DataClasses),
		"params":        params,
		"format":        r.Format.String(),
		"async":         r.Async,
		"entries":       entries,
	}
}

// requesterMap exposes a requester to CEL: subject, client_id, issuer,
// class, scopes, purpose, patient, fhir_user and verified.
func requesterMap(w *decision.Requester) map[string]any {
	if w == nil {
		w = &decision.Requester{}
	}
	return map[string]any{
		"subject":   w.Subject,
		"client_id": w.ClientID,
		"issuer":    w.Issuer,
		"class":     string(w.Class),
		"scopes":    nonNil(w.Scopes),
		"purpose":   nonNil(w.Purpose),
		"patient":   w.Patient,
		"fhir_user": w.FHIRUser,
		"verified":  w.Verified,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ResourceVars are the variables of a resource_when condition: resource
// (the decoded resource, numbers converted with CELNumbers) and now.
type ResourceVars struct {
	Resource map[string]any
	Now      time.Time
}

var _ interpreter.Activation = (*ResourceVars)(nil)

// ResolveName implements interpreter.Activation.
func (v *ResourceVars) ResolveName(name string) (any, bool) {
	switch name {
	case "resource":
		return v.Resource, true
	case "now":
		return v.Now, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (v *ResourceVars) Parent() interpreter.Activation { return nil }
