{{/* Names, labels and the cloud.conf source, shared by the templates. */}}

{{- define "standalone-cinder.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "standalone-cinder.fullname" -}}
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

{{- define "standalone-cinder.selectorLabels" -}}
app.kubernetes.io/name: {{ include "standalone-cinder.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "standalone-cinder.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "standalone-cinder.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: provisioner
{{- end }}

{{- define "standalone-cinder.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "standalone-cinder.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding cloud.conf; fails on an ambiguous or empty source. */}}
{{- define "standalone-cinder.cloudConfigSecret" -}}
{{- $c := .Values.cloudConfig }}
{{- if and $c.create $c.hostPath }}
{{- fail "cloudConfig: set either create (with content) or hostPath, not both" }}
{{- end }}
{{- if $c.create }}
{{- if not $c.content }}
{{- fail "cloudConfig.create needs cloudConfig.content (e.g. --set-file cloudConfig.content=cloud.conf)" }}
{{- end }}
{{- printf "%s-cloud-config" (include "standalone-cinder.fullname" .) }}
{{- else if not $c.hostPath }}
{{- required "cloudConfig: give existingSecret, create+content or hostPath" $c.existingSecret }}
{{- end }}
{{- end }}

{{- define "standalone-cinder.caSecret" -}}
{{- $ca := .Values.cloudConfig.caBundle }}
{{- if and $ca.existingSecret $ca.content }}
{{- fail "cloudConfig.caBundle: set either existingSecret or content, not both" }}
{{- end }}
{{- if $ca.content }}
{{- printf "%s-ca" (include "standalone-cinder.fullname" .) }}
{{- else }}
{{- $ca.existingSecret }}
{{- end }}
{{- end }}

{{/* The Lease is named after the provisioner, as RunCommand does. */}}
{{- define "standalone-cinder.leaseName" -}}
{{- regexReplaceAll "[^a-zA-Z0-9.-]" .Values.provisionerName "-" | lower }}
{{- end }}
