// Package auth identifies the requester of each request from its bearer
// token and implements gateway.Identifier.
//
// In verify mode it checks JWT access tokens against the JWKS of each
// configured issuer (several at once; keys rotate by kid, with a
// rate-limited refresh when an unknown kid appears), with an algorithm
// allow-list that never admits "none" nor an HMAC algorithm, bounded
// leeway on exp, nbf and iat, and the audience; opaque tokens go through
// RFC 7662 introspection, cached until they expire. In passthrough mode,
// for deployments where the EHR validates tokens, identity is read without
// verification and the requester is marked unverified.
//
// The requester class comes from configured rules over issuer, client id
// and claims, and the purpose of use from configured claims. Tokens never
// leave this package: requesters carry a SHA-256 of the token's jti (or of
// the token), and neither errors nor log lines hold any part of a token.
package auth
