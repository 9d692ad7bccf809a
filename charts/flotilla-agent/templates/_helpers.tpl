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

{{/* The Secret holding the NATS enrollment JWT (nats.enrollmentJwt). */}}
{{- define "flotilla-agent.natsEnrollmentSecretName" -}}
{{- default (printf "%s-nats-enrollment" (include "flotilla-agent.fullname" .)) .Values.nats.enrollmentJwt.existingSecret }}
{{- end }}

{{/* "true" when the agent enrolls its own NATS user (transport nats with nats.enrollmentJwt), else "". */}}
{{- define "flotilla-agent.natsEnrolls" -}}
{{- if and (eq .Values.transport "nats") (or .Values.nats.enrollmentJwt.value .Values.nats.enrollmentJwt.existingSecret) }}true{{ end }}
{{- end }}

{{/* "true" when the agent takes a bootstrap token: gRPC, or NATS enrollment; else "". */}}
{{- define "flotilla-agent.usesBootstrapToken" -}}
{{- if or (ne .Values.transport "nats") (include "flotilla-agent.natsEnrolls" .) }}true{{ end }}
{{- end }}

{{/* Namespaces that get a Role and RoleBinding (least-privilege mode). */}}
{{- define "flotilla-agent.rbacNamespaces" -}}
{{- if .Values.rbac.namespaces }}{{ toJson (uniq .Values.rbac.namespaces) }}{{ else }}{{ toJson (list .Release.Namespace) }}{{ end }}
{{- end }}

{{/* Where the agent keeps its state (FLOTILLA_CACHE_STORE): cache.store, with `auto` resolved. */}}
{{- define "flotilla-agent.cacheStore" -}}
{{- if ne .Values.cache.store "auto" }}{{ .Values.cache.store }}
{{- else if and (eq .Values.driver "kube") (eq .Values.cache.type "emptyDir") }}secret
{{- else }}file
{{- end }}
{{- end }}

{{/* FLOTILLA_CACHE_SECRET_PREFIX: cache.secretPrefix, else the release's full name. */}}
{{- define "flotilla-agent.cacheSecretPrefix" -}}
{{- default (include "flotilla-agent.fullname" .) .Values.cache.secretPrefix }}
{{- end }}

{{/* "true" when the agent talks to the Kubernetes API (kube driver or Secret store), else "". */}}
{{- define "flotilla-agent.needsKubeAccess" -}}
{{- if or (eq .Values.driver "kube") (eq (include "flotilla-agent.cacheStore" .) "secret") }}true{{ end }}
{{- end }}

{{/* Where the hub's CA is mounted (FLOTILLA_HUB_CA_FILE is <dir>/ca.crt). */}}
{{- define "flotilla-agent.hubCaDir" -}}
/etc/flotilla/hub-ca
{{- end }}

{{/* The ConfigMap holding hub.caBundle. */}}
{{- define "flotilla-agent.hubCaConfigMapName" -}}
{{- printf "%s-hub-ca" (include "flotilla-agent.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* hub.caBundle as PEM: taken as is when it is PEM, else decoded from base64 (whitespace ignored). */}}
{{- define "flotilla-agent.hubCaPem" -}}
{{- $bundle := .Values.hub.caBundle }}
{{- if contains "-----BEGIN CERTIFICATE-----" $bundle }}{{ $bundle }}{{ else }}{{ b64dec (nospace $bundle) }}{{ end }}
{{- end }}

{{/* "true" when the gRPC link mounts the hub's CA (hub.caBundle or hub.caSecret), else "". */}}
{{- define "flotilla-agent.mountsHubCa" -}}
{{- if and (ne .Values.transport "nats") (or .Values.hub.caBundle .Values.hub.caSecret) }}true{{ end }}
{{- end }}

{{/* Where the NATS .creds file is mounted. */}}
{{- define "flotilla-agent.natsCredsDir" -}}
/etc/flotilla/nats
{{- end }}

{{/* Where nats.caBundle or nats.caSecret is mounted (FLOTILLA_NATS_CA_FILE is <dir>/<natsCaFileName>). */}}
{{- define "flotilla-agent.natsCaDir" -}}
/etc/flotilla/nats-ca
{{- end }}

{{/* The file name of the NATS CA in its mount: ca.crt for nats.caBundle, nats.caKey for nats.caSecret. */}}
{{- define "flotilla-agent.natsCaFileName" -}}
{{- if .Values.nats.caBundle }}ca.crt{{ else }}{{ .Values.nats.caKey }}{{ end }}
{{- end }}

{{/* "true" when the NATS link mounts a CA (nats.caBundle or nats.caSecret), else "". */}}
{{- define "flotilla-agent.mountsNatsCa" -}}
{{- if and (eq .Values.transport "nats") (or .Values.nats.caBundle .Values.nats.caSecret) }}true{{ end }}
{{- end }}

{{/* The ConfigMap holding nats.caBundle. */}}
{{- define "flotilla-agent.natsCaConfigMapName" -}}
{{- printf "%s-nats-ca" (include "flotilla-agent.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* nats.caBundle as PEM: taken as is when it is PEM, else decoded from base64 (whitespace ignored). */}}
{{- define "flotilla-agent.natsCaPem" -}}
{{- $bundle := .Values.nats.caBundle }}
{{- if contains "-----BEGIN CERTIFICATE-----" $bundle }}{{ $bundle }}{{ else }}{{ b64dec (nospace $bundle) }}{{ end }}
{{- end }}

{{/*
Refuses combinations the schema cannot express, with a message naming the values, rather than
rendering a Deployment that crash-loops. The schema already enforces hub.address (grpc) and nats.url
(nats).
*/}}
{{- define "flotilla-agent.validate" -}}
{{- if not .Values.cluster.name }}
{{- fail "cluster.name is required: the name the cluster was registered under in the hub (--set cluster.name=...)" }}
{{- end }}
{{- if and .Values.bootstrapToken.value .Values.bootstrapToken.existingSecret }}
{{- fail "bootstrapToken: set either bootstrapToken.value or bootstrapToken.existingSecret, not both" }}
{{- end }}
{{- if eq .Values.transport "nats" }}
{{- $nats := .Values.nats }}
{{- $enrollment := $nats.enrollmentJwt }}
{{- if and $enrollment.value $enrollment.existingSecret }}
{{- fail "nats.enrollmentJwt: set either nats.enrollmentJwt.value or nats.enrollmentJwt.existingSecret, not both" }}
{{- end }}
{{- if include "flotilla-agent.natsEnrolls" . }}
{{- if or $nats.user $nats.existingSecret $nats.credsSecret }}
{{- fail "nats.enrollmentJwt makes the agent enroll its own NATS user: unset nats.user, nats.existingSecret and nats.credsSecret" }}
{{- end }}
{{- if not (or .Values.bootstrapToken.value .Values.bootstrapToken.existingSecret) }}
{{- fail "bootstrapToken.value or bootstrapToken.existingSecret is required with nats.enrollmentJwt: the agent exchanges the token for its NATS user (registerCluster or issueBootstrapToken)" }}
{{- end }}
{{- else if or .Values.bootstrapToken.value .Values.bootstrapToken.existingSecret }}
{{- fail "bootstrapToken is not used with transport: nats without nats.enrollmentJwt (the cluster's NATS user is its identity): unset bootstrapToken.value and bootstrapToken.existingSecret, or set nats.enrollmentJwt when the hub is the NATS operator" }}
{{- end }}
{{- if and $nats.credsSecret (or $nats.user $nats.existingSecret) }}
{{- fail "nats: set either nats.credsSecret or nats.user with nats.existingSecret, not both" }}
{{- end }}
{{- if and $nats.user (not $nats.existingSecret) }}
{{- fail "nats.existingSecret is required with nats.user: the Secret holding the NATS password (key nats.passwordKey)" }}
{{- end }}
{{- if and $nats.existingSecret (not $nats.user) }}
{{- fail "nats.user is required with nats.existingSecret" }}
{{- end }}
{{- if and $nats.caBundle $nats.caSecret }}
{{- fail "nats: set either nats.caBundle or nats.caSecret, not both" }}
{{- end }}
{{- if and $nats.caBundle (not (contains "-----BEGIN CERTIFICATE-----" (include "flotilla-agent.natsCaPem" .))) }}
{{- fail "nats.caBundle must be PEM certificates (-----BEGIN CERTIFICATE-----...), or their base64" }}
{{- end }}
{{- else }}
{{- if or .Values.nats.enrollmentJwt.value .Values.nats.enrollmentJwt.existingSecret }}
{{- fail "nats.enrollmentJwt is used only with transport: nats" }}
{{- end }}
{{- if not (or .Values.bootstrapToken.value .Values.bootstrapToken.existingSecret) }}
{{- fail "bootstrapToken.value or bootstrapToken.existingSecret is required with transport: grpc (the one-time token from the hub's registerCluster or issueBootstrapToken mutation)" }}
{{- end }}
{{- $hub := .Values.hub }}
{{- if and $hub.caBundle $hub.caSecret }}
{{- fail "hub: set either hub.caBundle or hub.caSecret, not both" }}
{{- end }}
{{- if and $hub.insecure (or $hub.caBundle $hub.caSecret $hub.tlsServerName) }}
{{- fail "hub.insecure dials the hub in plaintext: unset hub.caBundle, hub.caSecret and hub.tlsServerName, or hub.insecure" }}
{{- end }}
{{- if not (or $hub.insecure $hub.caBundle $hub.caSecret) }}
{{- fail "hub.caBundle or hub.caSecret is required with transport: grpc: the CA the hub's certificate is signed by (registerCluster's caBundle, or the hub's agentLinkCA query); hub.insecure=true only for a plaintext development hub" }}
{{- end }}
{{- if and $hub.caBundle (not (contains "-----BEGIN CERTIFICATE-----" (include "flotilla-agent.hubCaPem" .))) }}
{{- fail "hub.caBundle must be PEM certificates (-----BEGIN CERTIFICATE-----...), or their base64" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The `to:` of an egress rule from networkPolicy.hub or .nats (cidrs, selectors); nothing when empty. */}}
{{- define "flotilla-agent.egressPeers" -}}
{{- if or .cidrs .namespaceSelector .podSelector }}
to:
  {{- range .cidrs }}
  - ipBlock:
      cidr: {{ . }}
  {{- end }}
  {{- if or .namespaceSelector .podSelector }}
  - {{- with .namespaceSelector }}
    namespaceSelector:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .podSelector }}
    podSelector:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  {{- end }}
{{- end }}
{{- end }}
