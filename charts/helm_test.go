package charts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	chartDir  = "ehigate"
	release   = "gw"
	namespace = "ehigate"
)

// helmBinary finds helm through EHIGATE_HELM or PATH; without it the test
// is skipped, unless EHIGATE_REQUIRE_SERVICES=1 (CI) makes it fail.
func helmBinary(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("EHIGATE_HELM"); h != "" {
		return h
	}
	if h, err := exec.LookPath("helm"); err == nil {
		return h
	}
	if os.Getenv("EHIGATE_REQUIRE_SERVICES") == "1" {
		t.Fatal("helm not found: set EHIGATE_HELM or put helm on PATH (.ci/run builds it into .ci/bin)")
	}
	t.Skip("helm not found (set EHIGATE_HELM or put helm on PATH; .ci/run builds it into .ci/bin)")
	return ""
}

// helmTemplate renders the chart with extra helm arguments.
func helmTemplate(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm template %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// manifests is a rendered release, decoded.
type manifests struct {
	deployment      *appsv1.Deployment
	service         *corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	serviceAccounts []*corev1.ServiceAccount
	pvcs            []*corev1.PersistentVolumeClaim
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	pdbs            []*policyv1.PodDisruptionBudget
	netpols         []*networkingv1.NetworkPolicy
	serviceMonitors []*serviceMonitor
	kinds           []string
}

func newDecoder() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		appsv1.AddToScheme, corev1.AddToScheme, autoscalingv2.AddToScheme,
		policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
}

// decodeAll splits helm's output into documents and decodes each strictly
// into its Kubernetes API type: an unknown or duplicate field is an error.
func decodeAll(t *testing.T, rendered []byte) *manifests {
	t.Helper()
	dec := newDecoder()
	m := &manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(rendered)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			continue // comments only
		}
		where := head.Kind + "/" + head.Metadata.Name
		m.kinds = append(m.kinds, where)
		if head.Metadata.Namespace == "" {
			t.Errorf("%s has no namespace", where)
		}
		if head.Kind == "ServiceMonitor" {
			sm, err := decodeServiceMonitor(doc)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			m.serviceMonitors = append(m.serviceMonitors, sm)
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			t.Errorf("%s (%s) does not decode strictly: %v", where, head.APIVersion, err)
			continue
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			if m.deployment != nil {
				t.Errorf("two Deployments")
			}
			m.deployment = o
		case *corev1.Service:
			m.service = o
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = o
		case *corev1.Secret:
			m.secrets[o.Name] = o
		case *corev1.ServiceAccount:
			m.serviceAccounts = append(m.serviceAccounts, o)
		case *corev1.PersistentVolumeClaim:
			m.pvcs = append(m.pvcs, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.hpas = append(m.hpas, o)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, o)
		case *networkingv1.NetworkPolicy:
			m.netpols = append(m.netpols, o)
		default:
			t.Errorf("%s: unexpected type %T", where, obj)
		}
	}
	if m.deployment == nil || m.service == nil {
		t.Fatalf("rendered %v: no Deployment or Service", m.kinds)
	}
	return m
}

// repoRoot is the module root (the parent of this package's folder).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}
