// The viewer's public API (`auditq/viewer`): auditViewer, its options, and the policy it sends.
export { ConfigError } from "../../shared/util/errors.js";
export { CONTENT_SECURITY_POLICY } from "./respond.js";
export { auditViewer, type ViewerOptions } from "./viewer.js";
