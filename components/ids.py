"""Every component ID in the app, in one place."""

# Shell
TABS = "tabs"
RESULTS_KEY = "results-key"  # dcc.Store holding only the cache key of the current results
DATASET_SUMMARY = "dataset-summary"
RUN_STATUS = "run-status"
RUN_PROGRESS = "run-progress"
RUN_PROGRESS_TEXT = "run-progress-text"
RUN_BUTTON = "run-button"
CANCEL_BUTTON = "cancel-button"
RUN_ERROR = "run-error"

# Data tab
DATASET = "dataset-choice"
UPLOAD = "upload"
UPLOAD_NAME = "upload-name"
UPLOAD_ERROR = "upload-error"
UPLOAD_STORE = "upload-store"  # server-side token of the uploaded file, never its rows
MAPPING_TABLE = "mapping-table"
QUALITY_REPORT = "quality-report"
PARAM_AS_OF = "param-as-of"
PARAM_HORIZON = "param-horizon"
PARAM_MARGIN = "param-margin"
PARAM_DISCOUNT = "param-discount"
PARAM_CHURN_WINDOW = "param-churn-window"
PARAM_CLUSTER_METHOD = "param-cluster-method"
PARAM_CLUSTER_K = "param-cluster-k"
PARAM_K_RANGE = "param-k-range"
DATA_PREVIEW = "data-preview"

# Executive tower
TOWER_KPIS = "tower-kpis"
TOWER_NARRATIVE = "tower-narrative"
TOWER_TREND = "tower-trend"
TOWER_SEGMENTS = "tower-segments"
TOWER_COHORTS = "tower-cohorts"

# Segment explorer
EXPLORER_COLOR_BY = "explorer-color-by"
EXPLORER_SEGMENTS = "explorer-segments"
EXPLORER_CLUSTERS = "explorer-clusters"
EXPLORER_CHURN = "explorer-churn"
EXPLORER_CLV = "explorer-clv"
EXPLORER_COUNTRY = "explorer-country"
EXPLORER_SCATTER = "explorer-scatter"
EXPLORER_SAMPLE_NOTE = "explorer-sample-note"
EXPLORER_RADAR = "explorer-radar"
EXPLORER_SUMMARY = "explorer-summary"
EXPLORER_DIAGNOSTICS = "explorer-diagnostics"
EXPLORER_GRID = "explorer-grid"
EXPLORER_COUNT = "explorer-count"
EXPORT_SELECTION = "export-selection"
EXPORT_SUMMARY = "export-summary"
EXPORT_AT_RISK = "export-at-risk"
AT_RISK_THRESHOLD = "at-risk-threshold"
AT_RISK_DEFINITION = "at-risk-definition"
DOWNLOAD = "download"

# Methodology & evidence
EVIDENCE_TRACKING = "evidence-tracking"
EVIDENCE_SCATTER = "evidence-scatter"
EVIDENCE_ROC = "evidence-roc"
EVIDENCE_CALIBRATION = "evidence-calibration"
EVIDENCE_PARAMS = "evidence-params"
EVIDENCE_METRICS = "evidence-metrics"

# Executive tower and Methodology & evidence (tower/methodology helper)
TOWER_KPI = "tower-kpi"  # prefix of each KPI card's id: f"{TOWER_KPI}-{kpi key}" (tooltip targets)
EVIDENCE_CLUSTERING = "evidence-clustering"
EVIDENCE_REFERENCE = "evidence-reference"
EVIDENCE_KPI_DEFINITIONS = "evidence-kpi-definitions"
