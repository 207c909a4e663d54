// Aliases of the generated OpenAPI schema types, so feature code reads `User` rather than
// `components["schemas"]["User"]`. Never declare API shapes by hand here: regenerate schema.d.ts.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Role = Schemas["Role"];
export type User = Schemas["User"];
export type LoginRequest = Schemas["LoginRequest"];
export type LoginResponse = Schemas["LoginResponse"];
export type ChangePasswordRequest = Schemas["ChangePasswordRequest"];
export type CreateUserRequest = Schemas["CreateUserRequest"];
export type UpdateUserRequest = Schemas["UpdateUserRequest"];
export type UserPage = Schemas["UserPage"];
export type ApiToken = Schemas["ApiToken"];
export type CreateTokenRequest = Schemas["CreateTokenRequest"];
export type CreatedToken = Schemas["CreatedToken"];
export type TokenPage = Schemas["TokenPage"];
export type AuditEvent = Schemas["AuditEvent"];
export type AuditPage = Schemas["AuditPage"];
export type ErrorBody = Schemas["ErrorBody"];
export type ErrorDetail = Schemas["ErrorDetail"];
export type VersionInfo = Schemas["VersionInfo"];
