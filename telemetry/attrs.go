package telemetry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Attribute keys that spans and metrics may carry. Their values are
// drawn from small closed sets (codes, enum names, HTTP statuses): never a
// patient, subject, client or token identifier, a URL, path or query, a
// resource id, or free text that could contain one.
const (
	// KeyAction is the decision's action: allow, deny, redact, delay,
	// throttle or error.
	KeyAction = "action"
	// KeyException is the 45 CFR 171 exception code a restriction names
	// ("" for allow).
	KeyException = "exception"
	// KeyInteraction is the FHIR interaction (read, search-type, ...).
	KeyInteraction = "interaction"
	// KeyResourceType is the FHIR resource type (Patient, Observation).
	KeyResourceType = "resource_type"
	// KeyOperation is a FHIR operation name such as $export.
	KeyOperation = "operation"
	// KeyPolicyID is the id of a documented policy.
	KeyPolicyID = "policy_id"
	// KeyPolicySetVersion is the version of the loaded policy set.
	KeyPolicySetVersion = "policy_set_version"
	// KeyStatus is an HTTP status code.
	KeyStatus = "status"
	// KeyReason is a fixed reason code (e.g. upstream-timeout), never an
	// error message.
	KeyReason = "reason"
	// KeyRequesterClass is the requester's class: patient, provider,
	// payer, app, hin, ...
	KeyRequesterClass = "requester_class"
)

// allowedKeys is the allow-list: the keys above and the few OpenTelemetry
// semantic-convention keys whose values carry no identifier.
var allowedKeys = []attribute.Key{
	KeyAction, KeyException, KeyInteraction, KeyResourceType, KeyOperation,
	KeyPolicyID, KeyPolicySetVersion, KeyStatus, KeyReason, KeyRequesterClass,
	"http.request.method", "http.response.status_code", "error.type", "exception.type",
}

// ErrForbiddenAttribute is matched (errors.Is) by SafeAttrs' error for a
// key that is not on the allow-list.
var ErrForbiddenAttribute = errors.New("telemetry: attribute key not allowed")

// AllowedKeys returns the attribute keys spans and metrics may carry.
func AllowedKeys() []attribute.Key { return slices.Clone(allowedKeys) }

// Allowed reports whether key may be used as a span or metric attribute.
func Allowed(key attribute.Key) bool {
	switch key {
	case KeyAction, KeyException, KeyInteraction, KeyResourceType, KeyOperation,
		KeyPolicyID, KeyPolicySetVersion, KeyStatus, KeyReason, KeyRequesterClass,
		"http.request.method", "http.response.status_code", "error.type", "exception.type":
		return true
	}
	return false
}

// SafeAttrs returns kvs unchanged when every key is on the allow-list
// (see AllowedKeys), or an error matching ErrForbiddenAttribute naming the
// first key that is not. It is meant for attributes built once (fixed
// sets, tests); attributes that slip past it are still dropped at export.
func SafeAttrs(kvs ...attribute.KeyValue) ([]attribute.KeyValue, error) {
	for _, kv := range kvs {
		if !Allowed(kv.Key) {
			return nil, fmt.Errorf("%w: %q", ErrForbiddenAttribute, kv.Key)
		}
	}
	return kvs, nil
}

// attrFilter keeps only allowed keys (for metric views).
func attrFilter(kv attribute.KeyValue) bool { return Allowed(kv.Key) }

// scrubExporter drops every attribute whose key is not allowed from spans,
// their events and links before handing them to the next exporter.
type scrubExporter struct{ next sdktrace.SpanExporter }

func (e scrubExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out, copied := spans, false
	for i, s := range spans {
		if spanClean(s) {
			continue
		}
		if !copied {
			out, copied = slices.Clone(spans), true
		}
		out[i] = scrub(s)
	}
	return e.next.ExportSpans(ctx, out)
}

func (e scrubExporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }

func allAllowed(kvs []attribute.KeyValue) bool {
	for _, kv := range kvs {
		if !Allowed(kv.Key) {
			return false
		}
	}
	return true
}

func spanClean(s sdktrace.ReadOnlySpan) bool {
	if !allAllowed(s.Attributes()) {
		return false
	}
	for _, ev := range s.Events() {
		if !allAllowed(ev.Attributes) {
			return false
		}
	}
	for _, l := range s.Links() {
		if !allAllowed(l.Attributes) {
			return false
		}
	}
	return true
}

// keepAllowed returns the allowed attributes of kvs and how many it drops.
func keepAllowed(kvs []attribute.KeyValue) ([]attribute.KeyValue, int) {
	kept := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		if Allowed(kv.Key) {
			kept = append(kept, kv)
		}
	}
	return kept, len(kvs) - len(kept)
}

func scrub(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	stub := tracetest.SpanStubFromReadOnlySpan(s)
	var dropped int
	stub.Attributes, dropped = keepAllowed(stub.Attributes)
	stub.DroppedAttributes += dropped
	for i := range stub.Events {
		ev := &stub.Events[i]
		var d int
		ev.Attributes, d = keepAllowed(ev.Attributes)
		ev.DroppedAttributeCount += d
	}
	for i := range stub.Links {
		l := &stub.Links[i]
		var d int
		l.Attributes, d = keepAllowed(l.Attributes)
		l.DroppedAttributeCount += d
	}
	return stub.Snapshot()
}
