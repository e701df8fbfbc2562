"""Every component ID in the app, in one place."""

# Shell
TABS = "tabs"
RESULTS_KEY = "results-key"  # dcc.Store holding only the cache key of the current results
DATASET_SUMMARY = "dataset-summary"
RUN_PROGRESS = "run-progress"
RUN_PROGRESS_TEXT = "run-progress-text"
RUN_BUTTON = "run-button"
CANCEL_BUTTON = "cancel-button"
RUN_ERROR = "run-error"
ACCOUNT = "account"
SIGN_OUT = "sign-out"
SERVER_ALERT = "server-alert"  # failures no callback handled itself (storage, a dead run)
LOCATION = "location"  # dcc.Location of the page
AUTORUN = "autorun"  # Store: the dataset whose results must be computed (not found in the cache)

# Data tab
DATASET = "dataset-choice"
UPLOAD = "upload"
UPLOAD_NAME = "upload-name"
UPLOAD_ERROR = "upload-error"
UPLOAD_LIMIT = "upload-limit"
DELETE_UPLOAD = "delete-upload"  # deletes the uploaded file and every result derived from it  # states the size limit; assets/upload_limit.js reads it
UPLOAD_STORE = "upload-store"  # server-side token of the uploaded file, never its rows
MAPPING_TABLE = "mapping-table"
# Database source: a connection by name (never its URL), a table or a query
DB_PANEL = "db-panel"
DB_CONNECTION = "db-connection"
DB_KIND = "db-kind"  # "table" | "query"
DB_TABLE = "db-table"
DB_QUERY = "db-query"
DB_READ_COLUMNS = "db-read-columns"
DB_MESSAGE = "db-message"
QUALITY_REPORT = "quality-report"
PARAM_AS_OF = "param-as-of"
PARAM_HORIZON = "param-horizon"
PARAM_MARGIN = "param-margin"
PARAM_DISCOUNT = "param-discount"
PARAM_CHURN_WINDOW = "param-churn-window"
PARAM_CLUSTER_METHOD = "param-cluster-method"
PARAM_CLUSTER_K = "param-cluster-k"
PARAM_K_RANGE = "param-k-range"
PARAM_CLV_MODEL = "param-clv-model"

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
EVIDENCE_TOURNAMENT = "evidence-tournament"
EVIDENCE_TOURNAMENT_TRACKING = "evidence-tournament-tracking"
EVIDENCE_REFERENCE = "evidence-reference"
EVIDENCE_KPI_DEFINITIONS = "evidence-kpi-definitions"

# Campaign test (uplift), on the evidence tab
UPLIFT_UPLOAD = "uplift-upload"
UPLIFT_FILE = "uplift-file"  # dcc.Store: the uploaded assignment file's name and sha256 (bytes stay on the server)
UPLIFT_FILE_NAME = "uplift-file-name"
UPLIFT_SENT_ON = "uplift-sent-on"
UPLIFT_WINDOW = "uplift-window"
UPLIFT_RUN = "uplift-run"
UPLIFT_EMBEDDED = "uplift-embedded"
UPLIFT_PROGRESS = "uplift-progress"
UPLIFT_ERROR = "uplift-error"
UPLIFT_KEY = "uplift-key"  # dcc.Store: cache key of the analysed campaign test
UPLIFT_SUMMARY = "uplift-summary"
UPLIFT_GROUPS = "uplift-groups"
UPLIFT_VERDICT = "uplift-verdict"
UPLIFT_QINI = "uplift-qini"
UPLIFT_DECILES = "uplift-deciles"
UPLIFT_MODEL = "uplift-model"
UPLIFT_SEGMENTS = "uplift-segments"
UPLIFT_SEGMENTS_TABLE = "uplift-segments-table"
EXPORT_CONTROL_SHARE = "export-control-share"
EXPORT_CONTROL_SEED = "export-control-seed"
EXPORT_ERROR = "export-error"
ROI_CONTROL_SHARE = "roi-control-share"
ROI_CONTROL_SEED = "roi-control-seed"
ROI_EXPORT_ERROR = "roi-export-error"

# ROI simulator
ROI_RESTORED = "roi-restored"  # Store: the link query whose scenario the levers were last set from
ROI_NOTE = "roi-note"
ROI_SEGMENTS = "roi-segments"
ROI_CLUSTERS = "roi-clusters"
ROI_COUNTRIES = "roi-countries"
ROI_CHURN = "roi-churn"
ROI_CLV_MIN = "roi-clv-min"
ROI_FILTER_NOTE = "roi-filter-note"
ROI_UPLOAD = "roi-upload"
ROI_IDS = "roi-ids"  # dcc.Store: the uploaded (or linked) customer IDs and the file name
ROI_IDS_STATUS = "roi-ids-status"
ROI_IDS_CLEAR = "roi-ids-clear"
ROI_DISCOUNT = "roi-discount"
ROI_REDEMPTION = "roi-redemption"
ROI_REDEMPTION_SD = "roi-redemption-sd"
ROI_UPLIFT_SOURCE = "roi-uplift-source"
ROI_UPLIFT_GIVEN = "roi-uplift-given"
ROI_UPLIFT_TEST = "roi-uplift-test"
ROI_UPLIFT = "roi-uplift"
ROI_UPLIFT_SD = "roi-uplift-sd"
ROI_TEST_TREATED = "roi-test-treated"
ROI_TEST_TREATED_N = "roi-test-treated-n"
ROI_TEST_CONTROL = "roi-test-control"
ROI_TEST_CONTROL_N = "roi-test-control-n"
ROI_MARGIN = "roi-margin"
ROI_CONTACT_COST = "roi-contact-cost"
ROI_FIXED_COST = "roi-fixed-cost"
ROI_HORIZON = "roi-horizon"
ROI_SIZE_MODE = "roi-size-mode"
ROI_TOP_N = "roi-top-n"
ROI_AUDIENCE = "roi-audience"
ROI_KPIS = "roi-kpis"
ROI_KPI = "roi-kpi"  # prefix of each answer card's id: f"{ROI_KPI}-{key}"
ROI_WARNINGS = "roi-warnings"
ROI_CURVE = "roi-curve"
ROI_BRIDGE = "roi-bridge"
ROI_TORNADO = "roi-tornado"
ROI_DISTRIBUTION = "roi-distribution"
ROI_RANGE = "roi-range"
ROI_CURRENT = "roi-current"  # dcc.Store: the current valid scenario as a dict
ROI_NAME = "roi-name"
ROI_SAVE = "roi-save"
ROI_CLEAR_SAVED = "roi-clear-saved"
ROI_SAVED = "roi-saved"  # dcc.Store (session): saved scenarios as a list of scenario dicts
ROI_COMPARE = "roi-compare"
ROI_SHARE_LINK = "roi-share-link"
ROI_COPY = "roi-copy"
ROI_EXPORT = "roi-export"
ROI_EXPORT_TARGETS = "roi-export-targets"
ROI_DOWNLOAD = "roi-download"
ROI_LINK_ERROR = "roi-link-error"

# Journeys
JOURNEYS_PERIOD = "journeys-period"
JOURNEYS_INACTIVE = "journeys-inactive"  # inactivity window, days
JOURNEYS_FROM = "journeys-from"  # snapshot labels, e.g. "2011-Q3"
JOURNEYS_TO = "journeys-to"
JOURNEYS_CHAIN = "journeys-chain"
JOURNEYS_WEIGHT = "journeys-weight"
JOURNEYS_STATUS = "journeys-status"
JOURNEYS_HEADLINES = "journeys-headlines"
JOURNEYS_SANKEY = "journeys-sankey"
JOURNEYS_MATRIX = "journeys-matrix"
JOURNEYS_FLOW_SOURCE = "journeys-flow-source"  # state at the from-snapshot (None = any)
JOURNEYS_FLOW_TARGET = "journeys-flow-target"
JOURNEYS_FLOW_COUNT = "journeys-flow-count"
JOURNEYS_FLOW_GRID = "journeys-flow-grid"
JOURNEYS_EXPORT = "journeys-export"
JOURNEYS_DOWNLOAD = "journeys-download"


# Lazy tabs: each tab reads the results key from its own store, which the shell fills only while the tab is
# shown, so a page load renders one tab's charts instead of all of them.
def tab_key(tab_id: str) -> str:
    """ID of the Store holding the results key as seen by one tab."""
    return f"results-key-{tab_id}"


def tab_body(tab_id: str) -> str:
    """ID of the container a tab's body is drawn into on its first visit."""
    return f"tab-body-{tab_id}"


def tab_drawn(tab_id: str) -> str:
    """ID of the Store marking that a tab's body has been drawn (so a tab switch sends no body back)."""
    return f"tab-drawn-{tab_id}"
