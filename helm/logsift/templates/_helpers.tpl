{{/* Names: <release>-<chart>, or the overrides; 63 characters at most (a DNS label). */}}
{{- define "logsift.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "logsift.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "logsift.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "logsift.selector" -}}
app.kubernetes.io/name: {{ include "logsift.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "logsift.labels" -}}
{{ include "logsift.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "logsift.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "logsift.httpPort" -}}
{{- dig "http" "port" 9464 .Values.config -}}
{{- end -}}

{{/*
Checks the values a Kubernetes API server would accept but the daemon or the chart would not.
values.schema.json checks types; these are the rules across fields.
*/}}
{{- define "logsift.validate" -}}
{{- if hasKey .Values "kafkaPasswordSecret" -}}
{{- fail "kafkaPasswordSecret was renamed: set sasl.existingSecret (and config.kafka.sasl.mechanism and username)" -}}
{{- end -}}
{{- if hasKey .Values "kbConfigMap" -}}
{{- fail "kbConfigMap was renamed: set kb.existingConfigMap" -}}
{{- end -}}
{{- if hasKey .Values "terminationGracePeriodSeconds" -}}
{{- fail "terminationGracePeriodSeconds is derived from config.shutdownGracePeriod plus terminationGraceMarginSeconds: set those instead" -}}
{{- end -}}
{{- if not (kindIs "map" .Values.config) -}}
{{- fail "config: the daemon's configuration (kafka.brokers, input.topics, output.topic at least)" -}}
{{- end -}}
{{- if not (dig "kafka" "brokers" list .Values.config) -}}
{{- fail "config.kafka.brokers: set at least one Kafka bootstrap server (host:port)" -}}
{{- end -}}
{{- $_ := required "config.output.topic is required: the topic enriched events are written to" (dig "output" "topic" "" .Values.config) -}}
{{- if not (or (dig "input" "topics" list .Values.config) (dig "input" "topicPattern" "" .Values.config)) -}}
{{- fail "config.input: set topics or topicPattern" -}}
{{- end -}}
{{- if eq (toString (dig "http" "enabled" true .Values.config)) "false" -}}
{{- fail "config.http.enabled must stay true: the probes and metrics use the daemon's HTTP server" -}}
{{- end -}}
{{- if dig "kafka" "sasl" "password" "" .Values.config -}}
{{- fail "config.kafka.sasl.password would be stored in a ConfigMap: put it in a Secret and set sasl.existingSecret" -}}
{{- end -}}
{{- if and .Values.sasl.existingSecret (not (and (dig "kafka" "sasl" "mechanism" "" .Values.config) (dig "kafka" "sasl" "username" "" .Values.config))) -}}
{{- fail "sasl.existingSecret needs config.kafka.sasl.mechanism and config.kafka.sasl.username" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled -}}
{{- fail "autoscaling.enabled and keda.enabled both create a HorizontalPodAutoscaler: enable one" -}}
{{- end -}}
{{- end -}}

{{/*
The daemon's grace period in whole seconds, from config.shutdownGracePeriod as the daemon reads it:
a number of milliseconds, or "500ms" / "30s" / "5m" / "1h" (default 30s).
*/}}
{{- define "logsift.shutdownGraceSeconds" -}}
{{- $v := .Values.config.shutdownGracePeriod | default "30s" -}}
{{- $ms := 0.0 -}}
{{- if kindIs "string" $v -}}
{{- $re := "^([0-9]+(\\.[0-9]+)?)\\s*(ms|s|m|h)?$" -}}
{{- $s := trim $v -}}
{{- if not (regexMatch $re $s) -}}
{{- fail (printf "config.shutdownGracePeriod: not a duration: %q (use e.g. 30s, 2m)" $v) -}}
{{- end -}}
{{- $unit := regexReplaceAll $re $s "${3}" | default "ms" -}}
{{- $factor := get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $unit -}}
{{- $ms = mulf (float64 (regexReplaceAll $re $s "${1}")) $factor -}}
{{- else -}}
{{- $ms = float64 $v -}}
{{- end -}}
{{- divf $ms 1000 | ceil | int -}}
{{- end -}}

{{/* The daemon's config.json: .Values.config plus the paths of what the chart mounts. */}}
{{- define "logsift.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $kb := get $config "kb" | default dict -}}
{{- if .Values.kb.existingConfigMap -}}
{{- $_ := set $kb "paths" (append (get $kb "paths" | default list) .Values.kb.mountPath) -}}
{{- end -}}
{{- if not (hasKey $kb "cacheDir") -}}
{{- $_ := set $kb "cacheDir" .Values.cache.mountPath -}}
{{- end -}}
{{- $_ := set $config "kb" $kb -}}
{{- if .Values.sasl.existingSecret -}}
{{- $sasl := deepCopy $config.kafka.sasl -}}
{{- $_ := set $sasl "passwordFile" (printf "%s/%s" .Values.sasl.mountPath .Values.sasl.passwordKey) -}}
{{- $_ := set $config.kafka "sasl" $sasl -}}
{{- end -}}
{{- toPrettyJson $config -}}
{{- end -}}
