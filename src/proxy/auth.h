/*
 * auth.h - the proxy's credentials and password authentication: the
 * credentials file, SCRAM-SHA-256 (RFC 5802 / RFC 7677) on both sides (the
 * proxy is the server for its clients and a client of PostgreSQL), and md5.
 *
 * The credentials file has PgBouncer's userlist format:
 *
 *     "user" "secret"        one entry a line; "" inside quotes is one quote
 *     ; comment  # comment   blank lines and comments are ignored
 *
 * The secret is a plaintext password, an md5 hash ("md5" + 32 hex digits,
 * md5(password || user)), or a SCRAM-SHA-256 verifier as PostgreSQL stores it
 * ("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", base64).
 * The file must be owned by the user running the proxy... or at least not be
 * readable or writable by group and others (mode 0600 or stricter): it is
 * refused otherwise.
 *
 * What each kind of secret allows:
 *   - plaintext: clients by SCRAM, servers by SCRAM, md5 or cleartext;
 *   - SCRAM verifier: clients by SCRAM; servers by SCRAM only when the server
 *     holds the same verifier, using the ClientKey recovered from the client's
 *     own SCRAM proof (so only after the client authenticated with SCRAM);
 *   - md5 hash: servers by md5 only; clients cannot be authenticated with it.
 * Passwords are taken as bytes: SASLprep is not applied (ASCII passwords are
 * unaffected).
 */
#ifndef DD_PROXY_AUTH_H
#define DD_PROXY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

#define SCRAM_KEY_LEN       32
#define SCRAM_SALT_MAX      64
#define SCRAM_DEFAULT_ITERS 4096

typedef enum { CRED_PLAIN = 0, CRED_MD5 = 1, CRED_SCRAM = 2 } CredKind;

typedef struct {
    char *user;
    CredKind kind;
    char *secret; /* the plaintext, or the md5 hash text; NULL for SCRAM */
    /* SCRAM keys (from the verifier, or derived from the plaintext). */
    bool has_scram;
    uint8_t salt[SCRAM_SALT_MAX];
    size_t salt_len;
    int iterations;
    uint8_t stored_key[SCRAM_KEY_LEN];
    uint8_t server_key[SCRAM_KEY_LEN];
    /*
     * The keys last derived from the plaintext for a server's salt and
     * iteration count: PBKDF2 costs milliseconds, and a switch reconnects
     * every session at once.
     */
    bool has_cache;
    uint8_t cache_salt[SCRAM_SALT_MAX];
    size_t cache_salt_len;
    int cache_iterations;
    uint8_t cache_client_key[SCRAM_KEY_LEN], cache_stored_key[SCRAM_KEY_LEN];
    uint8_t cache_server_key[SCRAM_KEY_LEN];
} Credential;

typedef struct {
    Credential *items;
    size_t len;
} Credentials;

/* Read the credentials file; refuses a file readable by group or others. */
DD_MUST_CHECK bool auth_credentials_load(const char *path, Credentials *out);
/* Parse credentials text; name is used in messages ("file" line N). */
DD_MUST_CHECK bool auth_credentials_parse(const char *text, const char *name, Credentials *out);
const Credential *auth_credentials_find(const Credentials *c, const char *user);
void auth_credentials_free(Credentials *c);

/*
 * Read a bearer token file ([proxy] admin-token-file): one line of at
 * least 16 printable characters, the file mode 0600 or stricter. *out is
 * the token (owned, trailing newline removed). DD_EXIT_CONFIG otherwise.
 */
DD_MUST_CHECK bool auth_token_load(const char *path, char **out);

/*
 * Create a new token file ("drydock proxy-ctl token-create"): AUTH_TOKEN_BYTES
 * random bytes (rand_bytes) as lower-case hex and a newline, mode 0600.
 * Refuses an existing file (DD_EXIT_IO, EEXIST); nothing is left on failure.
 */
#define AUTH_TOKEN_BYTES 32
DD_MUST_CHECK bool auth_token_create(const char *path);

/* Parse a SCRAM-SHA-256 verifier into cred's SCRAM fields. */
DD_MUST_CHECK bool auth_scram_parse_verifier(const char *text, Credential *cred);

/* --- SCRAM, server side (authenticating a client) ---------------------- */

#define SCRAM_MOCK_SECRET_LEN 32

/*
 * A credential for a user the proxy cannot authenticate (missing from the
 * file, or without a SCRAM secret), as PostgreSQL's mock authentication:
 * the client gets a normal SCRAM exchange that fails at the proof with the
 * same message as a wrong password, so that the two cannot be told apart.
 * The salt is derived from the user name and a per-process secret (the
 * same user always sees the same salt); the keys are random, so no proof
 * matches. *out owns nothing (user points at the argument).
 */
void auth_scram_mock(Credential *out, const char *user,
                     const uint8_t secret[SCRAM_MOCK_SECRET_LEN]);

typedef struct {
    char *client_first_bare;
    char *server_first;
    char nonce[80];                    /* client nonce + server nonce */
    char gs2[64];                      /* the client's GS2 header, e.g. "n,," */
    uint8_t client_key[SCRAM_KEY_LEN]; /* recovered from the proof on success */
    /*
     * Channel binding (RFC 5802 section 6, tls-server-end-point), set by
     * the caller before scram_server_first: whether SCRAM-SHA-256-PLUS was
     * offered (the client is on TLS), whether the client chose it, and the
     * binding data (the hash of the proxy's certificate).
     */
    bool plus_offered, plus_chosen;
    uint8_t cbind[64];
    size_t cbind_len;
} ScramServer;

/*
 * Take the client-first-message and produce the server-first-message.
 * False (error set) when the message is malformed, or its channel binding
 * flag does not fit what was offered and chosen: "p=tls-server-end-point"
 * only with SCRAM-SHA-256-PLUS, and "y" (the client could bind but thinks
 * the server cannot) refused when PLUS was offered (a downgrade).
 */
DD_MUST_CHECK bool scram_server_first(ScramServer *s, const Credential *cred, const char *msg,
                                      size_t len, Buf *out);
/*
 * Take the client-final-message, verify the channel binding and the proof
 * and produce the server-final-message. False when the proof is wrong
 * (error set, 28P01).
 */
DD_MUST_CHECK bool scram_server_final(ScramServer *s, const Credential *cred, const char *msg,
                                      size_t len, Buf *out);
void scram_server_free(ScramServer *s);

/* --- SCRAM, client side (authenticating to a server) ------------------- */

typedef struct {
    char *client_first_bare;
    char nonce[40];
    uint8_t server_signature[SCRAM_KEY_LEN];
    /*
     * The largest iteration count a server may ask (0: SCRAM_MAX_ITERS):
     * PBKDF2 runs on the event loop, and a server asking millions of
     * iterations would freeze every session for seconds.
     */
    int max_iterations;
} ScramClient;

#define SCRAM_MAX_ITERS 65536

/* The client-first-message ("n,,n=,r=<nonce>"); keeps c->max_iterations. */
void scram_client_first(ScramClient *c, Buf *out);
/*
 * Take the server-first-message and produce the client-final-message, from
 * the plaintext password or, failing that, from client_key (may be NULL)
 * when the server's salt and iterations are those of the verifier held.
 */
DD_MUST_CHECK bool scram_client_final(ScramClient *c, Credential *cred, const uint8_t *client_key,
                                      const char *msg, size_t len, Buf *out);
/* Check the server-final-message ("v=<signature>"). */
DD_MUST_CHECK bool scram_client_verify(ScramClient *c, const char *msg, size_t len);
void scram_client_free(ScramClient *c);

/* --- md5 ----------------------------------------------------------------- */

/* The md5 password message text ("md5" + 32 hex) for the 4-byte salt. */
DD_MUST_CHECK bool auth_md5_response(const Credential *cred, const char *user,
                                     const uint8_t salt[4], char out[36]);

/* Base64 (standard alphabet, padded); decode returns false on bad input. */
char *auth_b64_encode(const uint8_t *data, size_t len);
bool auth_b64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_max,
                     size_t *out_len);

/* Derive SCRAM keys from a password with the given salt and iterations (tests). */
void scram_keys_from_password(const char *password, const uint8_t *salt, size_t salt_len,
                              int iterations, uint8_t client_key[SCRAM_KEY_LEN],
                              uint8_t stored_key[SCRAM_KEY_LEN], uint8_t server_key[SCRAM_KEY_LEN]);

#endif
