{{/* Chart name, truncated to the 63 characters of a DNS-1123 label. */}}
{{- define "flotilla-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already contains the chart name. */}}
{{- define "flotilla-agent.fullname" -}}
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

{{- define "flotilla-agent.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "flotilla-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flotilla-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "flotilla-agent.labels" -}}
helm.sh/chart: {{ include "flotilla-agent.chart" . }}
{{ include "flotilla-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: flotilla
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "flotilla-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "flotilla-agent.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret and key holding the bootstrap token. */}}
{{- define "flotilla-agent.tokenSecretName" -}}
{{- default (printf "%s-bootstrap-token" (include "flotilla-agent.fullname" .)) .Values.bootstrapToken.existingSecret }}
{{- end }}

{{/* Namespaces that get a Role and RoleBinding (least-privilege mode). */}}
{{- define "flotilla-agent.rbacNamespaces" -}}
{{- if .Values.rbac.namespaces }}{{ toJson (uniq .Values.rbac.namespaces) }}{{ else }}{{ toJson (list .Release.Namespace) }}{{ end }}
{{- end }}

{{/*
Refuses settings the agent cannot honour yet, with a message naming the value, rather than rendering a
Deployment that crash-loops.
*/}}
{{- define "flotilla-agent.validate" -}}
{{- if not .Values.cluster.name }}
{{- fail "cluster.name is required: the name the cluster was registered under in the hub (--set cluster.name=...)" }}
{{- end }}
{{- if eq .Values.transport "nats" }}
{{- fail "transport: nats is not supported by the agent yet (it speaks gRPC only); use transport: grpc until the NATS transport lands" }}
{{- end }}
{{- if eq .Values.driver "kube" }}
{{- fail "driver: kube is not available in this agent build yet (FLOTILLA_DRIVER accepts 'sim' only); it arrives with the Kubernetes driver" }}
{{- end }}
{{- if and .Values.bootstrapToken.value .Values.bootstrapToken.existingSecret }}
{{- fail "bootstrapToken: set either bootstrapToken.value or bootstrapToken.existingSecret, not both" }}
{{- end }}
{{- if not (or .Values.bootstrapToken.value .Values.bootstrapToken.existingSecret) }}
{{- fail "bootstrapToken.value or bootstrapToken.existingSecret is required (the one-time token from the hub's registerCluster or issueBootstrapToken mutation)" }}
{{- end }}
{{- end }}
