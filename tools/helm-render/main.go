// helm-render renders a Helm chart as `helm template` does, for tests on machines without Helm:
// Go's text/template with sprig plus Helm's own functions (include, tpl, toYaml, fromYaml, toJson,
// required, fail, lookup) and objects (.Values, .Release, .Chart, .Capabilities, .Files, .Template).
//
//	helm-render [flags] [RELEASE] CHART_DIR
//
// It prints a multi-document YAML stream, each document preceded by "# Source: <template>";
// --notes prints the rendered NOTES.txt instead and --show-values the merged values as JSON.
// Not covered: subcharts, hooks, .helmignore, values.schema.json (the chart's tests check it),
// --set list indexes and escaped commas.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/Masterminds/semver/v3"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// valueSource is one -f, --set or --set-string, kept in command-line order as Helm applies them
// (files first, then --set, then --set-string).
type valueSource struct {
	kind string
	arg  string
}

type sourceFlag struct {
	kind string
	into *[]valueSource
}

func (s sourceFlag) String() string { return "" }
func (s sourceFlag) Set(v string) error {
	*s.into = append(*s.into, valueSource{s.kind, v})
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("helm-render", flag.ContinueOnError)
	var sources []valueSource
	var apiVersions listFlag
	fs.Var(sourceFlag{"file", &sources}, "f", "values file (repeatable; later files win)")
	fs.Var(sourceFlag{"file", &sources}, "values", "same as -f")
	fs.Var(sourceFlag{"set", &sources}, "set", "key.path=value[,key=value] (values read as YAML scalars; {a,b} is a list)")
	fs.Var(sourceFlag{"set-string", &sources}, "set-string", "like --set, values kept as strings")
	namespace := fs.String("namespace", "default", ".Release.Namespace")
	fs.StringVar(namespace, "n", "default", "same as --namespace")
	kubeVersion := fs.String("kube-version", "v1.30.0", ".Capabilities.KubeVersion")
	fs.Var(&apiVersions, "api-versions", "extra API version for .Capabilities.APIVersions (repeatable)")
	fs.Var(&apiVersions, "a", "same as --api-versions")
	notes := fs.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	showValues := fs.Bool("show-values", false, "print the merged values as JSON instead of the manifests")

	// Flags and positional arguments may be interleaved, as with helm.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	release := "release-name"
	var chartDir string
	switch len(positional) {
	case 1:
		chartDir = positional[0]
	case 2:
		release, chartDir = positional[0], positional[1]
	default:
		return fmt.Errorf("usage: helm-render [flags] [RELEASE] CHART_DIR")
	}

	chart, err := loadChart(chartDir)
	if err != nil {
		return err
	}
	values := chart.Values
	// Helm applies every -f, then every --set, then every --set-string.
	for _, kind := range []string{"file", "set", "set-string"} {
		for _, s := range sources {
			if s.kind != kind {
				continue
			}
			var layer map[string]any
			if kind == "file" {
				raw, err := os.ReadFile(s.arg)
				if err != nil {
					return err
				}
				layer, err = parseValues(raw, s.arg)
				if err != nil {
					return err
				}
			} else if layer, err = parseSet(s.arg, kind == "set-string"); err != nil {
				return err
			}
			values = mergeValues(values, layer)
		}
	}
	if *showValues {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(values)
	}

	kv, err := parseKubeVersion(*kubeVersion)
	if err != nil {
		return err
	}
	if chart.Meta.KubeVersion != "" {
		constraint, err := semver.NewConstraint(chart.Meta.KubeVersion)
		if err != nil {
			return fmt.Errorf("Chart.yaml kubeVersion %q: %w", chart.Meta.KubeVersion, err)
		}
		if !constraint.Check(semver.MustParse(kv.Version)) {
			return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", chart.Meta.KubeVersion, kv.Version)
		}
	}
	caps := Capabilities{KubeVersion: kv, APIVersions: append(VersionSet(builtinAPIVersions), apiVersions...)}
	rel := Release{Name: release, Namespace: *namespace, Service: "Helm", Revision: 1, IsInstall: true}

	manifests, notesText, err := render(renderOptions{chart: chart, values: values, release: rel, capabilities: caps})
	if err != nil {
		return err
	}
	if *notes {
		_, err := io.WriteString(stdout, notesText)
		return err
	}
	docs, err := split(manifests)
	if err != nil {
		return err
	}
	var out strings.Builder
	for _, d := range docs {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", d.source, d.body)
	}
	_, err = io.WriteString(stdout, out.String())
	return err
}
