/**
 * Health of what the agent manages: per-kind rules judging one live object (`judgeResource`), and how
 * resource health adds up to App health and a bounded Report (`aggregateHealth`, `buildReportContent`).
 */
export { countReadyEndpoints, webhookServicesOf, type RelatedObjects, type ServiceRef } from './admission.js';
export { judgeResource } from './judge-resource.js';
export { MAX_JUDGEMENT_CHARS, type ResourceJudgement } from './judgement.js';
export {
  HEALTH_NAMES,
  REPORT_LIMITS,
  aggregateHealth,
  buildReportContent,
  compareResources,
  healthSeverity,
  summarizeResources,
  type ReportContent,
  type ReportInput,
  type ReportLimits,
  type ReportedResource,
  type ResourceHealth,
} from './report.js';
