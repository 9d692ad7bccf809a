/**
 * Secret references (`((secret:<namespace>/<name>/<key>))`): the grammar is part of the wire contract and
 * lives in @flotilla/proto, which the agent reads too.
 */
export { findSecretReferences, hasMalformedSecretReference, hasSecretReference, isWholeSecretReference, type SecretReference } from '@flotilla/proto';
