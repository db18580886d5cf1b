/** The trace viewer: its static page (served by lib/server at GET /) and the self-contained HTML reports. */
export { renderScanReport, renderTraceReport } from './report';
export type { ReportOptions, ScanReportOptions, TraceReportItem } from './report';
export { viewerAsset, VIEWER_ASSETS } from './assets';
