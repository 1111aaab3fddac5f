package charts

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"sigs.k8s.io/yaml"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/configs/yamlx"
)

// pendingKeys are configuration keys the chart renders that other parts
// of the gateway are still adding. A config problem at one of them (or at
// an unknown parent of one) is reported, not failed; any other problem
// fails the test.
var pendingKeys = []string{}

func pending(path string) bool {
	for _, k := range pendingKeys {
		if path == k || strings.HasPrefix(k, path+".") || strings.HasPrefix(path, k+".") {
			return true
		}
	}
	return false
}

var valueSets = []struct {
	name string
	args []string
	// kinds expected besides ServiceAccount, ConfigMap, Service, Deployment.
	want []string
}{
	{"default values", nil, nil},
	{"production values", []string{"-f", "ehigate/ci/production-values.yaml"},
		[]string{"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor"}},
	{"single pod with persistence and inline secrets", []string{
		"--set", "persistence.enabled=true", "--set", "signingKey.value=c2VlZHNlZWRzZWVkc2VlZHNlZWRzZWVkc2VlZHNlZWQ=",
		"--set", "admin.tokens[0]=0123456789abcdef0123", "--set", "otlpHeaders.value=api-key: k",
		"--set", "config.telemetry.otlp.endpoint=https://otel:4318",
		"--set-string", "policies.a\\.yaml=policies: []",
	}, []string{"PersistentVolumeClaim", "Secret"}},
}

func TestChartRenders(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			out, err := helmTemplate(t, vs.args...)
			if err != nil {
				t.Fatal(err)
			}
			m := decodeAll(t, out)
			for _, kind := range append([]string{"ServiceAccount", "ConfigMap", "Service", "Deployment"}, vs.want...) {
				if !slices.ContainsFunc(m.kinds, func(k string) bool { return strings.HasPrefix(k, kind+"/") }) {
					t.Errorf("no %s rendered (got %v)", kind, m.kinds)
				}
			}
			checkPodSecurity(t, m)
			checkProbesAndResources(t, m)
			checkWiring(t, m)
			checkConfig(t, m)
		})
	}
}

func checkPodSecurity(t *testing.T, m *manifests) {
	t.Helper()
	pod := m.deployment.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod securityContext must run as a non-root user: %+v", psc)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccomp profile must be RuntimeDefault")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("the service account token must not be mounted")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("container has no securityContext")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Error("container: runAsNonRoot must be true")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("container: readOnlyRootFilesystem must be true")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("container: allowPrivilegeEscalation must be false")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("container: capabilities must drop ALL and add none: %+v", sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("container: seccomp profile must be RuntimeDefault")
	}
	// With a read-only root filesystem, the writable paths are volumes.
	for _, p := range []string{"/tmp", "/var/lib/ehigate"} {
		vm := mountAt(c, p)
		if vm == nil || vm.ReadOnly {
			t.Errorf("%s must be a writable volume mount", p)
		}
	}
}

func checkProbesAndResources(t *testing.T, m *manifests) {
	t.Helper()
	pod := m.deployment.Spec.Template.Spec
	c := pod.Containers[0]
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[p.Name] = true
	}
	for _, tc := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"startup", c.StartupProbe, "/healthz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if tc.probe == nil || tc.probe.HTTPGet == nil {
			t.Errorf("%s probe missing", tc.name)
			continue
		}
		if tc.probe.HTTPGet.Path != tc.path || tc.probe.HTTPGet.Port.String() != "admin" || !ports["admin"] {
			t.Errorf("%s probe = %s on port %s, want %s on the admin port", tc.name, tc.probe.HTTPGet.Path, tc.probe.HTTPGet.Port.String(), tc.path)
		}
	}
	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
		t.Errorf("resources must set cpu and memory requests and a memory limit: %+v", c.Resources)
	}
	grace := int64(30)
	if pod.TerminationGracePeriodSeconds != nil {
		grace = *pod.TerminationGracePeriodSeconds
	}
	var preStop int64
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = c.Lifecycle.PreStop.Sleep.Seconds
	}
	if grace <= 30+preStop {
		t.Errorf("terminationGracePeriodSeconds %d does not cover the preStop sleep (%d s) and the 30 s drain", grace, preStop)
	}
	var podName bool
	for _, e := range c.Env {
		if e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			podName = true
		}
		if e.Value != "" && (strings.Contains(strings.ToLower(e.Name), "password") || strings.Contains(strings.ToLower(e.Name), "token")) {
			t.Errorf("env %s carries a secret inline", e.Name)
		}
	}
	if !podName {
		t.Error("POD_NAME is not set from the downward API")
	}
	if pod.Hostname != "" {
		t.Error("spec.hostname is set: each pod's journal chain is named after its host name, the pod name")
	}
}

func checkWiring(t *testing.T, m *manifests) {
	t.Helper()
	podLabels := labels.Set(m.deployment.Spec.Template.Labels)
	sel := labels.SelectorFromSet(m.deployment.Spec.Selector.MatchLabels)
	if !sel.Matches(podLabels) {
		t.Error("Deployment selector does not match its pods")
	}
	if !labels.SelectorFromSet(m.service.Spec.Selector).Matches(podLabels) {
		t.Error("Service selector does not match the pods")
	}
	c := m.deployment.Spec.Template.Spec.Containers[0]
	for _, sp := range m.service.Spec.Ports {
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == sp.TargetPort.String() }) {
			t.Errorf("Service port %s targets %s, which the container does not name", sp.Name, sp.TargetPort.String())
		}
	}
	for _, h := range m.hpas {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != m.deployment.Name {
			t.Errorf("HPA targets %+v", h.Spec.ScaleTargetRef)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
			t.Errorf("HPA minReplicas %v", h.Spec.MinReplicas)
		}
	}
	for _, p := range m.pdbs {
		if !labels.SelectorFromSet(p.Spec.Selector.MatchLabels).Matches(podLabels) {
			t.Error("PDB selector does not match the pods")
		}
	}
	for _, np := range m.netpols {
		if np.Namespace != namespace {
			continue // the EHR-side policy
		}
		if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(podLabels) {
			t.Error("NetworkPolicy podSelector does not match the pods")
		}
		if len(np.Spec.Egress) == 0 || len(np.Spec.Ingress) != 2 {
			t.Errorf("NetworkPolicy: %d ingress and %d egress rules", len(np.Spec.Ingress), len(np.Spec.Egress))
		}
	}
	for _, sm := range m.serviceMonitors {
		if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(m.service.Labels)) {
			t.Error("ServiceMonitor selector does not match the Service")
		}
		if sm.Spec.Endpoints[0].Port != "admin" || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor scrapes %+v", sm.Spec.Endpoints[0])
		}
	}
	// Every ConfigMap and Secret the pod mounts is rendered, or is an
	// existing object the values name.
	for _, v := range m.deployment.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && m.configMaps[v.ConfigMap.Name] == nil && !strings.HasPrefix(v.ConfigMap.Name, "ehr-") && !strings.HasPrefix(v.ConfigMap.Name, "postgres-") {
			t.Errorf("volume %s mounts ConfigMap %s, which is not rendered", v.Name, v.ConfigMap.Name)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil && m.secrets[s.Secret.Name] == nil && !strings.HasPrefix(s.Secret.Name, "ehigate-") {
					t.Errorf("volume %s mounts Secret %s, which is not rendered", v.Name, s.Secret.Name)
				}
			}
		}
	}
}

// checkConfig lays out the files the pod would see (ConfigMaps, Secrets
// and volumes under a temporary root) and parses the rendered config.yaml
// with configs.Parse.
func checkConfig(t *testing.T, m *manifests) {
	t.Helper()
	root := t.TempDir()
	pod := m.deployment.Spec.Template.Spec
	c := pod.Containers[0]
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	var mounts []string
	for _, vm := range c.VolumeMounts {
		dir := filepath.Join(root, vm.MountPath)
		mounts = append(mounts, vm.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		v := volumes[vm.Name]
		switch {
		case v.ConfigMap != nil:
			cm := m.configMaps[v.ConfigMap.Name]
			if cm == nil {
				writeItems(t, dir, v.ConfigMap.Items, nil)
				continue
			}
			writeItems(t, dir, v.ConfigMap.Items, cm.Data)
		case v.Secret != nil:
			writeItems(t, dir, v.Secret.Items, nil)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.Secret == nil {
					continue
				}
				data := map[string]string{}
				if sec := m.secrets[s.Secret.Name]; sec != nil {
					for k, b := range sec.Data {
						data[k] = string(b)
					}
				}
				writeItems(t, dir, s.Secret.Items, data)
			}
		}
	}
	if len(c.Args) != 3 || c.Args[0] != "serve" || c.Args[1] != "--config" {
		t.Fatalf("container args %v, want serve --config FILE", c.Args)
	}
	file := filepath.Join(root, c.Args[2])
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the config file %s is not mounted: %v", c.Args[2], err)
	}
	text := string(data)
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	var pairs []string // one pass, longest mount first, so nothing is rewritten twice
	for _, mp := range mounts {
		pairs = append(pairs, mp+"/", filepath.Join(root, mp)+"/", mp+"\n", filepath.Join(root, mp)+"\n")
	}
	text = strings.NewReplacer(pairs...).Replace(text)
	cfg, err := configs.Parse(file, []byte(text))
	var ps yamlx.Problems
	switch {
	case err == nil:
	case errors.As(err, &ps):
		failed := false
		for _, p := range ps {
			if pending(p.Path) {
				t.Logf("config key %s is rendered by the chart but not known to configs yet (%s): reconcile its name", p.Path, p.Msg)
				continue
			}
			failed = true
			t.Errorf("rendered config.yaml: %s", p)
		}
		if failed {
			return
		}
		// Only keys still being added: check the rest without them.
		if cfg, err = configs.Parse(file, withoutKeys(t, []byte(text), ps)); err != nil {
			t.Fatalf("rendered config.yaml without the pending keys: %v", err)
		}
	default:
		t.Fatal(err)
	}
	if cfg.Store.UsesPostgres() != strings.Contains(text, "postgres:") {
		t.Errorf("store selection does not match the rendered file")
	}
	if p, ok := strings.CutPrefix(cfg.Store.SQLite.Path, root); cfg.Store.SQLite.Path != "" && (!ok || !strings.HasPrefix(p, "/var/lib/ehigate/")) {
		t.Errorf("SQLite store %s is not on the data volume", cfg.Store.SQLite.Path)
	}
	if cfg.Journal.Chain != "" {
		t.Errorf("journal.chain = %q: each pod must use its own name", cfg.Journal.Chain)
	}
}

func writeItems(t *testing.T, dir string, items []corev1.KeyToPath, data map[string]string) {
	t.Helper()
	if len(items) == 0 {
		for k := range data {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		content, ok := data[it.Key]
		if !ok {
			content = "placeholder for an existing object's key " + it.Key + "\n"
		}
		p := filepath.Join(dir, it.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func mountAt(c corev1.Container, path string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].MountPath == path {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func TestChartRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"replicas without postgres", []string{"--set", "replicaCount=3"}, "need PostgreSQL"},
		{"autoscaling without postgres", []string{"--set", "autoscaling.enabled=true"}, "need PostgreSQL"},
		{"postgres without dsn", []string{"--set", "postgres.enabled=true"}, "needs postgres.dsn"},
		{"password in dsn", []string{"--set", "postgres.enabled=true", "--set", "postgres.dsn=postgres://u:secret@db/ehi", "--set", "signingKey.existingSecret=k"}, "must not contain a password"},
		{"postgres without signing key", []string{"--set", "postgres.enabled=true", "--set", "postgres.dsn=postgres://u@db/ehi"}, "signing key"},
		{"shared chain name", []string{"-f", "ehigate/ci/production-values.yaml", "--set", "config.journal.chain=gw"}, "journal.chain must be unique per pod"},
		{"persistence with several pods", []string{"-f", "ehigate/ci/production-values.yaml", "--set", "persistence.enabled=true"}, "single pod"},
		{"chart-managed key", []string{"--set", "config.store.sqlite.path=/x.db"}, "config.store is set by the chart"},
		{"short grace period", []string{"--set", "terminationGracePeriodSeconds=36"}, "terminationGracePeriodSeconds must exceed"},
		{"metrics off with a ServiceMonitor", []string{"--set", "serviceMonitor.enabled=true", "--set", "config.telemetry.prometheus=false"}, "needs config.telemetry.prometheus"},
		{"unknown value", []string{"--set", "replicas=2"}, "replicas"},
		{"writable root filesystem", []string{"--set", "securityContext.readOnlyRootFilesystem=false"}, "readOnlyRootFilesystem"},
		{"bad policy file name", []string{"--set-string", "policies.a/b=x"}, "not a policy file name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helmTemplate(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template %v: err = %v, want one mentioning %q", tc.args, err, tc.want)
			}
		})
	}
}

// withoutKeys removes the keys of problems ps from a YAML mapping.
func withoutKeys(t *testing.T, data []byte, ps yamlx.Problems) []byte {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		m, parts := doc, strings.Split(p.Path, ".")
		for _, k := range parts[:len(parts)-1] {
			if m, _ = m[k].(map[string]any); m == nil {
				break
			}
		}
		if m != nil {
			delete(m, parts[len(parts)-1])
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
