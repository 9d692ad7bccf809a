{{/* Chart name, truncated to the 63 characters of a DNS-1123 label. */}}
{{- define "flotilla-hub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already contains the chart name. */}}
{{- define "flotilla-hub.fullname" -}}
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

{{- define "flotilla-hub.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "flotilla-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flotilla-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "flotilla-hub.labels" -}}
helm.sh/chart: {{ include "flotilla-hub.chart" . }}
{{ include "flotilla-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: hub
app.kubernetes.io/part-of: flotilla
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "flotilla-hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "flotilla-hub.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding DATABASE_URL. */}}
{{- define "flotilla-hub.databaseSecretName" -}}
{{- default (printf "%s-database" (include "flotilla-hub.fullname" .)) .Values.database.existingSecret }}
{{- end }}

{{/* The Secret holding FLOTILLA_BOOTSTRAP_ADMIN_TOKEN (when either auth.bootstrapAdminToken source is set). */}}
{{- define "flotilla-hub.adminTokenSecretName" -}}
{{- default (printf "%s-admin-token" (include "flotilla-hub.fullname" .)) .Values.auth.bootstrapAdminToken.existingSecret }}
{{- end }}

{{/* The Secret holding FLOTILLA_CA_ENCRYPTION_KEY: the existing one, or the chart's. */}}
{{- define "flotilla-hub.caKeySecretName" -}}
{{- default (printf "%s-ca-encryption-key" (include "flotilla-hub.fullname" .)) .Values.tls.caEncryptionKey.existingSecret }}
{{- end }}

{{/* FLOTILLA_GRPC_TLS_SANS: the Service's DNS names, then tls.extraSans. */}}
{{- define "flotilla-hub.tlsSans" -}}
{{- $service := include "flotilla-hub.fullname" . }}
{{- $namespace := .Release.Namespace }}
{{- $names := list $service (printf "%s.%s" $service $namespace) (printf "%s.%s.svc" $service $namespace) (printf "%s.%s.svc.cluster.local" $service $namespace) }}
{{- join "," (concat $names .Values.tls.extraSans | uniq) }}
{{- end }}

{{/* FLOTILLA_AGENT_ADDRESS: agentAddress, else the Service's in-cluster name and agent-link port. */}}
{{- define "flotilla-hub.agentAddress" -}}
{{- default (printf "%s.%s.svc:%v" (include "flotilla-hub.fullname" .) .Release.Namespace .Values.ports.agentLink) .Values.agentAddress }}
{{- end }}

{{- define "flotilla-hub.validate" -}}
{{- if and .Values.database.url .Values.database.existingSecret }}
{{- fail "database: set either database.url or database.existingSecret, not both" }}
{{- end }}
{{- if not (or .Values.database.url .Values.database.existingSecret) }}
{{- fail "database.url or database.existingSecret is required: the chart runs the hub on an external PostgreSQL (DATABASE_URL)" }}
{{- end }}
{{- $nats := .Values.nats }}
{{- if and (not $nats.url) (or $nats.user $nats.existingSecret $nats.credsSecret) }}
{{- fail "nats.url is required with nats.user, nats.existingSecret or nats.credsSecret (the NATS link is on only when nats.url is set)" }}
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
{{- if and (not $nats.url) (or $nats.operator.enabled $nats.caSecret $nats.agentUrl $nats.agentCaSecret) }}
{{- fail "nats.url is required with nats.operator.enabled, nats.caSecret, nats.agentUrl or nats.agentCaSecret (the NATS link is on only when nats.url is set)" }}
{{- end }}
{{- if and $nats.operator.enabled (or $nats.user $nats.existingSecret $nats.credsSecret) }}
{{- fail "nats.operator.enabled makes the hub sign its own NATS user: unset nats.user, nats.existingSecret and nats.credsSecret" }}
{{- end }}
{{- if and (or $nats.agentUrl $nats.agentCaSecret) (not $nats.operator.enabled) }}
{{- fail "nats.agentUrl and nats.agentCaSecret are handed to agents by the install command of a hub that is the NATS operator: set nats.operator.enabled" }}
{{- end }}
{{- $admin := .Values.auth.bootstrapAdminToken }}
{{- if and $admin.value $admin.existingSecret }}
{{- fail "auth.bootstrapAdminToken: set either value or existingSecret, not both" }}
{{- end }}
{{- $caKey := .Values.tls.caEncryptionKey }}
{{- if and $caKey.value $caKey.existingSecret }}
{{- fail "tls.caEncryptionKey: set either value or existingSecret, not both" }}
{{- end }}
{{- $oidc := .Values.auth.oidc }}
{{- if and (not $oidc.issuer) (or $oidc.audience $oidc.jwksUrl $oidc.roleBindings $oidc.algorithms $oidc.webClientId) }}
{{- fail "auth.oidc.issuer is required with auth.oidc.audience, jwksUrl, roleBindings, algorithms or webClientId (OIDC is on only when auth.oidc.issuer is set)" }}
{{- end }}
{{- if and $oidc.webScopes (not $oidc.webClientId) }}
{{- fail "auth.oidc.webScopes needs auth.oidc.webClientId (the dashboard's public client at the issuer)" }}
{{- end }}
{{- if and $oidc.issuer (not $oidc.audience) }}
{{- fail "auth.oidc.audience is required with auth.oidc.issuer: the aud that tokens meant for the hub carry" }}
{{- end }}
{{- range $index, $binding := $oidc.roleBindings }}
{{- if and (eq $binding.role "ADMIN") (hasKey $binding "project") }}
{{- fail (printf "auth.oidc.roleBindings[%d]: an ADMIN binding is fleet-wide and takes no project (OPERATOR and VIEWER hold in one project)" $index) }}
{{- end }}
{{- end }}
{{- end }}

{{/* FLOTILLA_ALLOWED_HOSTS: the Service's DNS names, the ingress hosts (when enabled), then crossSite.extraAllowedHosts. */}}
{{- define "flotilla-hub.allowedHosts" -}}
{{- $service := include "flotilla-hub.fullname" . }}
{{- $namespace := .Release.Namespace }}
{{- $names := list $service (printf "%s.%s" $service $namespace) (printf "%s.%s.svc" $service $namespace) (printf "%s.%s.svc.cluster.local" $service $namespace) }}
{{- if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- $names = append $names .host }}
{{- end }}
{{- end }}
{{- join "," (concat $names .Values.crossSite.extraAllowedHosts | uniq) }}
{{- end }}
