package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"text/template"

	sprig "github.com/Masterminds/sprig/v3"
	"gopkg.in/yaml.v3"
)

// Release is .Release: what `helm template` knows of the release (an install).
type Release struct {
	Name      string
	Namespace string
	Service   string
	Revision  int
	IsInstall bool
	IsUpgrade bool
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version string // "v1.30.0"
	Major   string
	Minor   string
}

func (k KubeVersion) String() string     { return k.Version }
func (k KubeVersion) GitVersion() string { return k.Version }

// VersionSet is .Capabilities.APIVersions: "group/version" and "group/version/Kind" entries.
type VersionSet []string

// Has reports whether an API version (or version/Kind) is available.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// Capabilities is .Capabilities.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
}

// builtinAPIVersions are the built-in Kubernetes API groups of the versions this renderer targets
// (1.25+); custom resources (monitoring.coreos.com/v1, keda.sh/v1alpha1) come from --api-versions.
var builtinAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2", "networking.k8s.io/v1",
	"rbac.authorization.k8s.io/v1", "storage.k8s.io/v1", "apiextensions.k8s.io/v1", "admissionregistration.k8s.io/v1",
	"coordination.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1", "scheduling.k8s.io/v1", "node.k8s.io/v1",
	"certificates.k8s.io/v1", "apiregistration.k8s.io/v1",
}

var kubeVersionPattern = regexp.MustCompile(`^v?(\d+)\.(\d+)(\.\d+)?`)

func parseKubeVersion(s string) (KubeVersion, error) {
	m := kubeVersionPattern.FindStringSubmatch(s)
	if m == nil {
		return KubeVersion{}, fmt.Errorf("--kube-version %q: expected vMAJOR.MINOR[.PATCH]", s)
	}
	patch := m[3]
	if patch == "" {
		patch = ".0"
	}
	return KubeVersion{Version: "v" + m[1] + "." + m[2] + patch, Major: m[1], Minor: m[2]}, nil
}

// errMark wraps the messages of required and fail so that they can be found again inside
// text/template's error chain and reported alone, with their template location.
const errStart, errEnd = "\x00HELM_RENDER_ERR<", ">HELM_RENDER_ERR\x00"

var markedErr = regexp.MustCompile("(?s)" + regexp.QuoteMeta(errStart) + "(.*)" + regexp.QuoteMeta(errEnd))
var execLocation = regexp.MustCompile(`^template: ([^:]+:\d+:\d+): `)

const maxIncludeDepth = 1000

type engine struct {
	root     *template.Template
	included map[string]int
}

func newEngine() *engine {
	e := &engine{root: template.New("helm-render").Option("missingkey=zero"), included: map[string]int{}}
	funcs := sprig.TxtFuncMap()
	// As in Helm: no access to the renderer's environment.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	helmFuncs := template.FuncMap{
		"toYaml":   toYAML,
		"fromYaml": fromYAML,
		"fromYamlArray": func(s string) []any {
			var a []any
			if err := yaml.Unmarshal([]byte(s), &a); err != nil {
				return []any{err.Error()}
			}
			return a
		},
		"toJson": func(v any) string {
			b, err := json.Marshal(v)
			if err != nil {
				return ""
			}
			return string(b)
		},
		"fromJson": func(s string) map[string]any {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				m["Error"] = err.Error()
			}
			return m
		},
		"required": func(msg string, v any) (any, error) {
			if s, isString := v.(string); v == nil || (isString && s == "") {
				return v, errors.New(errStart + msg + errEnd)
			}
			return v, nil
		},
		"fail": func(msg string) (string, error) { return "", errors.New(errStart + msg + errEnd) },
		// helm template has no cluster: lookup finds nothing, DNS resolves nothing.
		"lookup":        func(string, string, string, string) (map[string]any, error) { return map[string]any{}, nil },
		"getHostByName": func(string) string { return "" },
	}
	for name, fn := range helmFuncs {
		funcs[name] = fn
	}
	funcs["include"] = e.include(e.root)
	funcs["tpl"] = e.tpl(e.root)
	e.root.Funcs(funcs)
	return e
}

func (e *engine) include(t *template.Template) func(string, any) (string, error) {
	return func(name string, data any) (string, error) {
		if e.included[name] >= maxIncludeDepth {
			return "", fmt.Errorf("include %q: nested more than %d deep (a template including itself?)", name, maxIncludeDepth)
		}
		e.included[name]++
		defer func() { e.included[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
}

// tpl renders a string as a template with the chart's named templates in scope; the string is
// parsed into a copy of the set, so it cannot redefine the chart's own templates.
func (e *engine) tpl(parent *template.Template) func(string, any) (string, error) {
	return func(text string, data any) (string, error) {
		t, err := parent.Clone()
		if err != nil {
			return "", err
		}
		t.Funcs(template.FuncMap{"include": e.include(t), "tpl": e.tpl(t)})
		t, err = t.New(parent.Name()).Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: cannot parse %q: %w", text, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("tpl: %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
}

// toYAML is Helm's toYaml: two-space indentation, no trailing newline, "" on error.
func toYAML(v any) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	_ = enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

// fromYAML is Helm's fromYaml: a map, carrying the parse error under "Error" on failure.
func fromYAML(s string) map[string]any {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// renderError reduces text/template's nested error to Helm's form: the location, then the
// message of required/fail alone.
func renderError(name string, err error) error {
	msg := err.Error()
	loc := name
	if m := execLocation.FindStringSubmatch(msg); m != nil {
		loc = m[1]
	}
	if m := markedErr.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("execution error at (%s): %s", loc, m[1])
	}
	return fmt.Errorf("execution error at (%s): %s", loc, strings.TrimPrefix(msg, "template: "))
}

type renderOptions struct {
	chart        *Chart
	values       map[string]any
	release      Release
	capabilities Capabilities
}

// render executes every template; partials (_*.tpl) only define, NOTES.txt is returned apart.
func render(o renderOptions) (manifests map[string]string, notes string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rendering failed: %v", r)
		}
	}()
	e := newEngine()
	names := sortedKeys(o.chart.Templates)
	for _, name := range names {
		if _, err := e.root.New(name).Parse(o.chart.Templates[name]); err != nil {
			return nil, "", fmt.Errorf("parse error: %w", err)
		}
	}
	basePath := path.Join(o.chart.Meta.Name, "templates")
	notesName := path.Join(basePath, "NOTES.txt")
	// NOTES.txt last, so that a chart's own checks in its manifests report first.
	sort.SliceStable(names, func(i, j int) bool { return names[i] != notesName && names[j] == notesName })
	manifests = map[string]string{}
	for _, name := range names {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		top := map[string]any{
			"Values":       o.values,
			"Release":      o.release,
			"Chart":        o.chart.Meta,
			"Capabilities": o.capabilities,
			"Files":        o.chart.Files,
			"Template":     map[string]any{"Name": name, "BasePath": basePath},
		}
		var buf strings.Builder
		if err := e.root.ExecuteTemplate(&buf, name, top); err != nil {
			return nil, "", renderError(name, err)
		}
		out := strings.ReplaceAll(buf.String(), "<no value>", "")
		if name == notesName {
			notes = out
		} else if strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".json") {
			manifests[name] = out
		}
	}
	return manifests, notes, nil
}

// installOrder is the order in which Helm installs kinds; `helm template` prints in it too.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
	"ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
	"Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
	"StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService", "MutatingWebhookConfiguration",
	"ValidatingWebhookConfiguration",
}

type document struct {
	source string
	kind   string
	body   string
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// split cuts every rendered file into YAML documents, checks each is an object with apiVersion and
// kind (as Helm does before installing), and orders them by kind as Helm installs them.
func split(manifests map[string]string) ([]document, error) {
	rank := map[string]int{}
	for i, k := range installOrder {
		rank[k] = i
	}
	var docs []document
	for _, name := range sortedKeys(manifests) {
		for _, part := range docSeparator.Split(manifests[name], -1) {
			if strings.TrimSpace(part) == "" {
				continue
			}
			var head struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
			}
			if err := yaml.Unmarshal([]byte(part), &head); err != nil {
				return nil, fmt.Errorf("YAML parse error on %s: %w", name, err)
			}
			if head.APIVersion == "" || head.Kind == "" {
				return nil, fmt.Errorf("%s: a document without apiVersion and kind", name)
			}
			docs = append(docs, document{source: name, kind: head.Kind, body: strings.Trim(part, "\n")})
		}
	}
	sort.SliceStable(docs, func(i, j int) bool {
		ri, iok := rank[docs[i].kind]
		rj, jok := rank[docs[j].kind]
		if !iok {
			ri = len(installOrder)
		}
		if !jok {
			rj = len(installOrder)
		}
		return ri < rj
	})
	return docs, nil
}
