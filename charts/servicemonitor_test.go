package charts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"sigs.k8s.io/yaml"
)

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) the chart renders; decoding is strict, so a
// misspelt field fails.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Scheme        string `json:"scheme"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func decodeServiceMonitor(doc []byte) (*serviceMonitor, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var sm serviceMonitor
	if err := dec.Decode(&sm); err != nil {
		return nil, fmt.Errorf("strict decoding: %w", err)
	}
	switch {
	case sm.APIVersion != "monitoring.coreos.com/v1":
		return nil, fmt.Errorf("apiVersion %q", sm.APIVersion)
	case len(sm.Spec.Selector.MatchLabels) == 0:
		return nil, errors.New("spec.selector.matchLabels is required")
	case len(sm.Spec.Endpoints) == 0:
		return nil, errors.New("spec.endpoints is required")
	}
	for i, e := range sm.Spec.Endpoints {
		if e.Port == "" || e.Path == "" {
			return nil, fmt.Errorf("spec.endpoints[%d]: port and path are required", i)
		}
	}
	return &sm, nil
}
