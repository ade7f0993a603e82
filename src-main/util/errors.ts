// Moved to src-main/contract/errors.ts (issue 23, item 7); kept only until every branch imports it from there.
export { ERROR_CODES, TsuzukiError, type ErrorCode } from '../contract/errors';
