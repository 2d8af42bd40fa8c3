package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Metadata is Chart.yaml, exposed to templates as .Chart with Helm's field names.
type Metadata struct {
	APIVersion   string            `yaml:"apiVersion"`
	Name         string            `yaml:"name"`
	Version      string            `yaml:"version"`
	AppVersion   string            `yaml:"appVersion"`
	KubeVersion  string            `yaml:"kubeVersion"`
	Description  string            `yaml:"description"`
	Type         string            `yaml:"type"`
	Home         string            `yaml:"home"`
	Icon         string            `yaml:"icon"`
	Sources      []string          `yaml:"sources"`
	Keywords     []string          `yaml:"keywords"`
	Annotations  map[string]string `yaml:"annotations"`
	Deprecated   bool              `yaml:"deprecated"`
	Dependencies []any             `yaml:"dependencies"`
}

// Chart is a chart directory read into memory.
type Chart struct {
	Meta      Metadata
	Values    map[string]any
	Templates map[string]string // name as Helm gives it: "<chart>/templates/<path>"
	Files     Files             // every other file, by path relative to the chart
}

// Files are the chart's non-template files, as .Files.
type Files map[string][]byte

// chartOwnFiles are read by the loader itself and, as in Helm, not offered through .Files.
var chartOwnFiles = map[string]bool{"Chart.yaml": true, "Chart.lock": true, "values.yaml": true, "values.schema.json": true, "requirements.yaml": true, "requirements.lock": true}

func loadChart(dir string) (*Chart, error) {
	meta, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("not a chart directory: %w", err)
	}
	c := &Chart{Templates: map[string]string{}, Files: Files{}, Values: map[string]any{}}
	if err := yaml.Unmarshal(meta, &c.Meta); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	if c.Meta.Name == "" || c.Meta.Version == "" {
		return nil, fmt.Errorf("Chart.yaml: name and version are required")
	}
	if len(c.Meta.Dependencies) > 0 {
		return nil, fmt.Errorf("Chart.yaml: dependencies (subcharts) are not supported by this renderer")
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.yaml")); err == nil {
		if c.Values, err = parseValues(raw, "values.yaml"); err != nil {
			return nil, err
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(mustRel(dir, p))
		if d.IsDir() {
			if rel == "charts" {
				return fmt.Errorf("charts/: subcharts are not supported by this renderer")
			}
			return nil
		}
		if chartOwnFiles[rel] || rel == ".helmignore" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			c.Templates[path.Join(c.Meta.Name, rel)] = string(data)
		} else {
			c.Files[rel] = data
		}
		return nil
	})
	return c, err
}

func mustRel(base, p string) string {
	r, err := filepath.Rel(base, p)
	if err != nil {
		panic(err)
	}
	return r
}

func parseValues(raw []byte, source string) (map[string]any, error) {
	var v map[string]any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if v == nil {
		v = map[string]any{}
	}
	return asJSONNumbers(v).(map[string]any), nil
}

// asJSONNumbers turns integers into float64, as Helm's values files read through YAML-to-JSON: a
// template printing 50000 gets "5e+04" under Helm too, so the renderer must not hide that.
// (--set values stay integers, as Helm's --set parser makes them.)
func asJSONNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = asJSONNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = asJSONNumbers(e)
		}
	case int:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return v
}

// mergeValues lays override over base as Helm coalesces user values over a chart's defaults: maps
// merge key by key, anything else replaces, and a null removes the key.
func mergeValues(base, override map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if v == nil {
			delete(out, k)
			continue
		}
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = mergeValues(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

// parseSet turns "a.b=1,c=x" into a values map: each value is read as a YAML scalar (numbers,
// booleans, null) and {x,y} is a list. Escaped commas and list indexes are not supported.
func parseSet(expr string, asString bool) (map[string]any, error) {
	out := map[string]any{}
	for _, assignment := range splitTopLevel(expr) {
		key, raw, ok := strings.Cut(assignment, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--set %q: expected key=value", assignment)
		}
		var value any = raw
		if !asString {
			if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
				items := []any{}
				for _, item := range strings.Split(raw[1:len(raw)-1], ",") {
					if item != "" {
						items = append(items, scalar(item))
					}
				}
				value = items
			} else {
				value = scalar(raw)
			}
		}
		parts := strings.Split(key, ".")
		cur := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		cur[parts[len(parts)-1]] = value
	}
	return out, nil
}

func splitTopLevel(expr string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range expr {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, expr[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, expr[start:])
}

func scalar(s string) any {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	switch v.(type) {
	case map[string]any, []any:
		return s
	}
	return v
}

// Get returns a file's content as a string ("" when absent, as in Helm).
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's content.
func (f Files) GetBytes(name string) []byte { return f[name] }

// Glob returns the files whose path matches a path.Match pattern ("files/*.json").
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

// AsConfig is the files as ConfigMap data: base name to content, as YAML.
func (f Files) AsConfig() string {
	m := map[string]string{}
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	return toYAML(m)
}

// Lines splits a file into lines.
func (f Files) Lines(name string) []string {
	s := strings.TrimSuffix(string(f[name]), "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
