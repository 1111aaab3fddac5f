{{/* Chart name. */}}
{{- define "ehigate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name. */}}
{{- define "ehigate.fullname" -}}
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

{{- define "ehigate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ehigate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ehigate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ehigate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: gateway
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "ehigate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ehigate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ehigate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Pods that may run at once: more than one needs PostgreSQL. */}}
{{- define "ehigate.multiPod" -}}
{{- if or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled }}true{{ end }}
{{- end }}

{{/* Paths inside the pod. */}}
{{- define "ehigate.configDir" }}/etc/ehigate/config{{ end }}
{{- define "ehigate.policiesDir" }}/etc/ehigate/policies{{ end }}
{{- define "ehigate.secretsDir" }}/etc/ehigate/secrets{{ end }}
{{- define "ehigate.caDir" }}/etc/ehigate/upstream-ca{{ end }}
{{- define "ehigate.dataDir" }}/var/lib/ehigate{{ end }}

{{/* The chart's own Secret holds the secret values given inline. */}}
{{- define "ehigate.secretData" -}}
{{- $d := dict }}
{{- if and .Values.signingKey.value (not .Values.signingKey.existingSecret) }}
{{- $_ := set $d .Values.signingKey.key (.Values.signingKey.value | b64enc) }}
{{- end }}
{{- if and .Values.admin.tokens (not .Values.admin.existingSecret) }}
{{- $_ := set $d .Values.admin.key (printf "%s\n" (join "\n" .Values.admin.tokens) | b64enc) }}
{{- end }}
{{- if and .Values.postgres.enabled .Values.postgres.password (not .Values.postgres.existingSecret) }}
{{- $_ := set $d .Values.postgres.passwordKey (.Values.postgres.password | b64enc) }}
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.password (not .Values.redis.existingSecret) }}
{{- $_ := set $d .Values.redis.passwordKey (.Values.redis.password | b64enc) }}
{{- end }}
{{- if and .Values.otlpHeaders.value (not .Values.otlpHeaders.existingSecret) }}
{{- $_ := set $d .Values.otlpHeaders.key (.Values.otlpHeaders.value | b64enc) }}
{{- end }}
{{- toYaml $d }}
{{- end }}

{{/* Secret files mounted under secretsDir: a list of {secret, key, path}. */}}
{{- define "ehigate.secretFiles" -}}
{{- $own := include "ehigate.fullname" . }}
{{- $files := list }}
{{- if or .Values.signingKey.value .Values.signingKey.existingSecret }}
{{- $files = append $files (dict "secret" (default $own .Values.signingKey.existingSecret) "key" .Values.signingKey.key "path" "signing-key.pem") }}
{{- end }}
{{- if or .Values.admin.tokens .Values.admin.existingSecret }}
{{- $files = append $files (dict "secret" (default $own .Values.admin.existingSecret) "key" .Values.admin.key "path" "admin-tokens") }}
{{- end }}
{{- if and .Values.redis.enabled (or .Values.redis.password .Values.redis.existingSecret) }}
{{- $files = append $files (dict "secret" (default $own .Values.redis.existingSecret) "key" .Values.redis.passwordKey "path" "redis-password") }}
{{- end }}
{{- if or .Values.otlpHeaders.value .Values.otlpHeaders.existingSecret }}
{{- $files = append $files (dict "secret" (default $own .Values.otlpHeaders.existingSecret) "key" .Values.otlpHeaders.key "path" "otlp-headers") }}
{{- end }}
{{- toYaml (dict "files" $files) }}
{{- end }}

{{- define "ehigate.hasPolicies" -}}
{{- if or .Values.policies .Values.existingPoliciesConfigMap }}true{{ end }}
{{- end }}

{{/* Checks that fail the release with a clear message. */}}
{{- define "ehigate.validate" -}}
{{- if and (include "ehigate.multiPod" .) (not .Values.postgres.enabled) }}
{{- fail "replicaCount > 1 and autoscaling need PostgreSQL (postgres.enabled=true, postgres.dsn): the embedded SQLite store belongs to a single pod" }}
{{- end }}
{{- if and .Values.postgres.enabled (not .Values.postgres.dsn) }}
{{- fail "postgres.enabled needs postgres.dsn (e.g. postgres://ehigate@postgres:5432/ehigate?sslmode=verify-full; the password goes in postgres.password or postgres.existingSecret)" }}
{{- end }}
{{- if and .Values.postgres.enabled (regexMatch "://[^/@]*:[^/@]*@" .Values.postgres.dsn) }}
{{- fail "postgres.dsn must not contain a password: set postgres.password or postgres.existingSecret" }}
{{- end }}
{{- if and .Values.postgres.enabled (not (or .Values.signingKey.value .Values.signingKey.existingSecret)) }}
{{- fail "postgres.enabled needs a provisioned checkpoint signing key: signingKey.existingSecret (or signingKey.value)" }}
{{- end }}
{{- if and .Values.redis.enabled (not .Values.redis.url) }}
{{- fail "redis.enabled needs redis.url (e.g. rediss://redis:6379/0; the password goes in redis.password or redis.existingSecret)" }}
{{- end }}
{{- if and .Values.persistence.enabled (include "ehigate.multiPod" .) }}
{{- fail "persistence (a ReadWriteOnce volume) is for a single pod; with several pods the records are in PostgreSQL" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (eq (toString (dig "telemetry" "prometheus" true .Values.config)) "false") }}
{{- fail "serviceMonitor.enabled needs config.telemetry.prometheus (the /metrics endpoint)" }}
{{- end }}
{{- if and (dig "journal" "chain" "" .Values.config) (include "ehigate.multiPod" .) }}
{{- fail "config.journal.chain must be unique per pod: leave it unset so that each pod's chain is named after the pod" }}
{{- end }}
{{- range $k := list "listen" "admin" "store" "policies" "throttle" }}
{{- if hasKey $.Values.config $k }}
{{- fail (printf "config.%s is set by the chart: use the chart's values instead (see values.yaml)" $k) }}
{{- end }}
{{- end }}
{{- range $k := list "signing_key" "spool_dir" }}
{{- if hasKey (default dict $.Values.config.journal) $k }}
{{- fail (printf "config.journal.%s is set by the chart: use the chart's values instead (see values.yaml)" $k) }}
{{- end }}
{{- end }}
{{- if hasKey (default dict (dig "telemetry" "otlp" dict .Values.config)) "headers_file" }}
{{- fail "config.telemetry.otlp.headers_file is set by the chart: use otlpHeaders" }}
{{- end }}
{{- if hasKey (default dict .Values.config.upstream) "ca_file" }}
{{- fail "config.upstream.ca_file is set by the chart: use upstreamCA" }}
{{- end }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (add (int .Values.preStopSleepSeconds) 35 | int) }}
{{- fail "terminationGracePeriodSeconds must exceed preStopSleepSeconds + 35 (the gateway drains for up to 30 s, then flushes the journal)" }}
{{- end }}
{{- end }}

{{/* The gateway configuration file. */}}
{{- define "ehigate.config" -}}
{{- $c := deepCopy .Values.config }}
{{- $_ := set $c "listen" (printf ":%d" (int .Values.containerPorts.fhir)) }}
{{- if not $c.public_base_url }}
{{- $_ := set $c "public_base_url" (printf "http://%s.%s.svc.cluster.local:%d/fhir" (include "ehigate.fullname" .) .Release.Namespace (int .Values.service.ports.fhir)) }}
{{- end }}
{{- $admin := dict "listen" (printf ":%d" (int .Values.containerPorts.admin)) }}
{{- if or .Values.admin.tokens .Values.admin.existingSecret }}
{{- $_ := set $admin "tokens_file" (printf "%s/admin-tokens" (include "ehigate.secretsDir" .)) }}
{{- end }}
{{- $_ := set $c "admin" $admin }}
{{- if or .Values.upstreamCA.configMap .Values.upstreamCA.secret }}
{{- $_ := set $c.upstream "ca_file" (printf "%s/%s" (include "ehigate.caDir" .) .Values.upstreamCA.key) }}
{{- end }}
{{- if .Values.postgres.enabled }}
{{- $pg := dict "dsn" .Values.postgres.dsn }}
{{- if .Values.postgres.maxConns }}{{ $_ := set $pg "max_conns" (int .Values.postgres.maxConns) }}{{ end }}
{{- $_ := set $c "store" (dict "postgres" $pg) }}
{{- else }}
{{- $_ := set $c "store" (dict "sqlite" (dict "path" (printf "%s/ehigate.db" (include "ehigate.dataDir" .)))) }}
{{- end }}
{{- $j := default dict $c.journal }}
{{- if or .Values.signingKey.value .Values.signingKey.existingSecret }}
{{- $_ := set $j "signing_key" (printf "%s/signing-key.pem" (include "ehigate.secretsDir" .)) }}
{{- end }}
{{- $_ := set $j "spool_dir" (printf "%s/spool" (include "ehigate.dataDir" .)) }}
{{- $_ := set $c "journal" $j }}
{{- if include "ehigate.hasPolicies" . }}
{{- $_ := set $c "policies" (list (include "ehigate.policiesDir" .)) }}
{{- end }}
{{- if .Values.redis.enabled }}
{{- $r := dict "url" .Values.redis.url }}
{{- if or .Values.redis.password .Values.redis.existingSecret }}
{{- $_ := set $r "password_file" (printf "%s/redis-password" (include "ehigate.secretsDir" .)) }}
{{- end }}
{{- $_ := set $c "throttle" (dict "redis" $r) }}
{{- end }}
{{- $t := default dict $c.telemetry }}
{{- if not (hasKey $t "prometheus") }}{{ $_ := set $t "prometheus" true }}{{ end }}
{{- if or .Values.otlpHeaders.value .Values.otlpHeaders.existingSecret }}
{{- $o := default dict $t.otlp }}
{{- $_ := set $o "headers_file" (printf "%s/otlp-headers" (include "ehigate.secretsDir" .)) }}
{{- $_ := set $t "otlp" $o }}
{{- end }}
{{- $_ := set $c "telemetry" $t }}
{{- toYaml $c }}
{{- end }}
