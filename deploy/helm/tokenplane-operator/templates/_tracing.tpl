{{/*
Traces (README "Observability"): the OTLP receiver and its protocol, as the
OpenTelemetry SDK reads them. No endpoint, no variable: the process then does
not load the SDK at all. One file for both charts: the platform chart's
templates/_tracing.tpl links here.
*/}}
{{- define "tokenplane.tracingEnv" -}}
{{- with .Values.tracing.otlpEndpoint -}}
- { name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ . | quote }} }
- { name: OTEL_EXPORTER_OTLP_PROTOCOL, value: {{ $.Values.tracing.protocol | quote }} }
{{- end -}}
{{- end -}}
