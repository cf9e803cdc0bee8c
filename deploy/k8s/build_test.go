package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	vpav1 "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlays are the deployable directories; each must build and pass every check.
var overlays = []string{"overlays/dev", "overlays/prod"}

// scheme knows every API type the manifests may use: an object of any
// other kind is refused rather than skipped.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		autoscalingv2.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
		monitoringv1.AddToScheme, vpav1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strict decodes as the API server's strict field validation does:
// unknown and duplicate fields are errors, field names are case-sensitive.
var strict = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
	kjson.SerializerOptions{Strict: true})

// objects is one built overlay, decoded.
type objects struct {
	dir  string
	list []runtime.Object
}

// build runs kustomize on dir (as kubectl kustomize does) and decodes every
// object strictly.
func build(dir string) (*objects, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	out := &objects{dir: dir}
	for _, r := range resources.Resources() {
		raw, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		obj, _, err := strict.Decode(raw, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s %s/%s: %w", dir, r.GetKind(), r.GetName(), err)
		}
		out.list = append(out.list, obj)
	}
	return out, nil
}

func mustBuild(t *testing.T, dir string) *objects {
	t.Helper()
	objs, err := build(dir)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// all returns the objects of type T.
func all[T runtime.Object](o *objects) []T {
	var out []T
	for _, obj := range o.list {
		if v, ok := obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// one returns the object of type T named name, failing the test without it.
func one[T interface {
	runtime.Object
	GetName() string
}](t *testing.T, o *objects, name string) T {
	t.Helper()
	for _, v := range all[T](o) {
		if v.GetName() == name {
			return v
		}
	}
	var zero T
	t.Fatalf("%s: no %T named %q", o.dir, zero, name)
	return zero
}

func TestOverlaysBuildAndDecodeStrictly(t *testing.T) {
	for _, dir := range overlays {
		t.Run(dir, func(t *testing.T) {
			objs := mustBuild(t, dir)
			if len(objs.list) < 8 {
				t.Fatalf("%s built only %d objects", dir, len(objs.list))
			}
		})
	}
}

// TestTypoFails proves the strict decoding bites: a copy of the manifests
// with one misspelt field, or one unknown kind, must not pass.
func TestTypoFails(t *testing.T) {
	cases := []struct{ file, from, to, want string }{
		{"base/deployment.yaml", "readinessProbe:", "readinesProbe:", "unknown field"},
		{"base/hpa.yaml", "averageUtilization: 50", "averageUtilisation: 50", "unknown field"},
		{"base/servicemonitor.yaml", "scrapeTimeout: 5s", "scrapeTimeOut: 5s", "unknown field"},
		{"components/redis-cluster/redis.yaml", "kind: StatefulSet", "kind: StatefullSet", "no kind"},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.to, func(t *testing.T) {
			dir := copyTree(t, ".")
			path := filepath.Join(dir, c.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), c.from) {
				t.Fatalf("%s has no %q", c.file, c.from)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(b), c.from, c.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = build(filepath.Join(dir, "overlays/prod"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("with %q for %q: got %v, want an error with %q", c.to, c.from, err, c.want)
			}
		})
	}
}

// copyTree copies the manifests (yaml and env files) of src into a
// temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		switch filepath.Ext(path) {
		case ".yaml", ".env", ".conf":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
