{{/* The chart name, overridable. */}}
{{- define "ripple.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the operator's objects: <release>-ripple, or the release name when it
already holds the chart name. */}}
{{- define "ripple.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "ripple.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object; helm.sh/chart changes with each chart version, so it is never in
a selector (selectors are immutable). */}}
{{- define "ripple.labels" -}}
helm.sh/chart: {{ include "ripple.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ripple
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The operator: selector labels, then all labels. */}}
{{- define "ripple.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ripple.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "ripple.operator.labels" -}}
{{ include "ripple.labels" . }}
app.kubernetes.io/name: {{ include "ripple.name" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The runner's objects (ServiceAccount, Role, RoleBinding). */}}
{{- define "ripple.runner.labels" -}}
{{ include "ripple.labels" . }}
app.kubernetes.io/name: {{ include "ripple.name" . }}
app.kubernetes.io/component: runner
{{- end }}

{{/* The uninstall hook's objects (its Job, ServiceAccount and RBAC). */}}
{{- define "ripple.stopRuns.labels" -}}
{{ include "ripple.labels" . }}
app.kubernetes.io/name: {{ include "ripple.name" . }}
app.kubernetes.io/component: uninstall-hook
{{- end }}

{{/* Annotations of a pre-delete hook object: call with (dict "weight" "-10"). Hooks are
deleted before a new one is made and once all have succeeded; a failed hook stays to be read. */}}
{{- define "ripple.stopRuns.annotations" -}}
helm.sh/hook: pre-delete
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}

{{/* A demo service: call with (dict "root" $ "role" "front"). */}}
{{- define "ripple.demo.selectorLabels" -}}
app.kubernetes.io/name: {{ .role }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* The plain `app` label is the original demo's: its experiments select pods by it. Not in
the selector, which stays app.kubernetes.io/* (selectors are immutable). */}}
{{- define "ripple.demo.labels" -}}
{{ include "ripple.labels" .root }}
app.kubernetes.io/name: {{ .role }}
app.kubernetes.io/component: demo
app: {{ .role }}
{{- end }}

{{/* Service account names. */}}
{{- define "ripple.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "ripple.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ripple.runner.serviceAccountName" -}}
{{- default (printf "%s-runner" (include "ripple.fullname" .)) .Values.runner.serviceAccount.name }}
{{- end }}

{{/* The image every role runs. */}}
{{- define "ripple.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Namespaces the runner's account and Role go to, as a JSON list. */}}
{{- define "ripple.runner.namespaces" -}}
{{- $ns := .Values.runner.namespaces }}
{{- if not $ns }}
{{- $ns = .Values.operator.watchNamespaces }}
{{- end }}
{{- if not $ns }}
{{- $ns = list .Release.Namespace }}
{{- end }}
{{- toJson (uniq $ns) }}
{{- end }}

{{/* Whether ServiceMonitors are rendered: the API is there, or forced. */}}
{{- define "ripple.serviceMonitor.enabled" -}}
{{- if and .Values.serviceMonitor.enabled (or .Values.serviceMonitor.force (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor")) }}true{{- end }}
{{- end }}

{{/* The restricted container security context of the demo services. */}}
{{- define "ripple.restrictedSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* A map as k=v,k2=v2 (sorted), for RIPPLE_JOB_LABELS. */}}
{{- define "ripple.keyValues" -}}
{{- $pairs := list }}
{{- range $k, $v := . }}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/* The operator's rules inside a namespace it serves. */}}
{{- define "ripple.operator.namespacedRules" -}}
- apiGroups: [ripple.dev]
  resources: [chaosscenarios]
  verbs: [get, list, watch, patch, update]
- apiGroups: [ripple.dev]
  resources: [chaosscenarios/status]
  verbs: [get, patch, update]
# Jobs carry an owner reference to their scenario with blockOwnerDeletion.
- apiGroups: [ripple.dev]
  resources: [chaosscenarios/finalizers]
  verbs: [update]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [create, get, list, watch, delete, patch]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
# Experiments from ConfigMaps are read; run journals are read and pruned.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, delete, patch]
# The Secrets a scenario names (spec.secrets, settingsSecretRef, env) are checked to exist
# and hold their keys before a run starts; their values are never kept or written.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
# The faults runs create are watched, and deleted when a run left one behind.
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, watch, delete]
- apiGroups: [chaos-mesh.org]
  resources: [networkchaos]
  verbs: [list, watch, delete]
{{- end }}

{{/* What Kopf needs cluster-wide whatever it serves: namespaces (to resolve the watched
ones) and CRDs (to discover resources as they appear). */}}
{{- define "ripple.operator.clusterRules" -}}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [get, list, watch]
# A scenario's spec.pod.priorityClassName must name a PriorityClass of the cluster.
- apiGroups: [scheduling.k8s.io]
  resources: [priorityclasses]
  verbs: [get]
{{- end }}
