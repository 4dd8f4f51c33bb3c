/*
 * auth.c - credentials file, SCRAM-SHA-256 both ways, md5 (formats in auth.h).
 *
 * SCRAM in one paragraph (RFC 5802): SaltedPassword = PBKDF2-HMAC-SHA-256
 * (password, salt, i); ClientKey = HMAC(SaltedPassword, "Client Key");
 * StoredKey = H(ClientKey); ServerKey = HMAC(SaltedPassword, "Server Key");
 * AuthMessage = client-first-bare "," server-first "," client-final-without-
 * proof; ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage);
 * ServerSignature = HMAC(ServerKey, AuthMessage).
 */
#include "proxy/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/rand.h"

#define CRED_FILE_MAX (16 * 1024 * 1024)

/* --- base64 -------------------------------------------------------------- */

char *auth_b64_encode(const uint8_t *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

bool auth_b64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_max,
                     size_t *out_len)
{
    if (text_len == 0 || text_len % 4 != 0 || text_len / 4 * 3 > out_max + 2)
        return false;
    for (size_t i = 0; i < text_len; i++) {
        char ch = text[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
                  (ch == '=' && i >= text_len - 2);
        if (!ok)
            return false;
    }
    uint8_t *tmp = xmalloc(text_len / 4 * 3 + 1);
    int n = EVP_DecodeBlock(tmp, (const unsigned char *)text, (int)text_len);
    if (n < 0) {
        free(tmp);
        return false;
    }
    size_t pad = (text[text_len - 1] == '=') + (text[text_len - 2] == '=');
    size_t real = (size_t)n - pad;
    if (real > out_max) {
        free(tmp);
        return false;
    }
    memcpy(out, tmp, real);
    free(tmp);
    *out_len = real;
    return true;
}

/* --- SCRAM primitives ---------------------------------------------------- */

static void hmac256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[SCRAM_KEY_LEN])
{
    unsigned int n = SCRAM_KEY_LEN;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n);
}

void scram_keys_from_password(const char *password, const uint8_t *salt, size_t salt_len,
                              int iterations, uint8_t client_key[SCRAM_KEY_LEN],
                              uint8_t stored_key[SCRAM_KEY_LEN], uint8_t server_key[SCRAM_KEY_LEN])
{
    uint8_t salted[SCRAM_KEY_LEN];
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, iterations,
                      EVP_sha256(), SCRAM_KEY_LEN, salted);
    uint8_t ck[SCRAM_KEY_LEN];
    hmac256(salted, sizeof(salted), "Client Key", 10, ck);
    if (client_key)
        memcpy(client_key, ck, SCRAM_KEY_LEN);
    sha256(ck, SCRAM_KEY_LEN, stored_key);
    hmac256(salted, sizeof(salted), "Server Key", 10, server_key);
}

static char *random_nonce(size_t raw_len)
{
    uint8_t raw[32];
    if (raw_len > sizeof(raw))
        raw_len = sizeof(raw);
    rand_bytes(raw, raw_len);
    return auth_b64_encode(raw, raw_len);
}

bool auth_scram_parse_verifier(const char *text, Credential *cred)
{
    /* SCRAM-SHA-256$<iter>:<salt>$<stored>:<server> */
    const char *p = text + strlen("SCRAM-SHA-256$");
    char *end;
    long iter = strtol(p, &end, 10);
    if (end == p || *end != ':' || iter < 1 || iter > 100000000)
        return false;
    const char *salt = end + 1;
    const char *dollar = strchr(salt, '$');
    if (!dollar)
        return false;
    const char *stored = dollar + 1;
    const char *colon = strchr(stored, ':');
    if (!colon)
        return false;
    const char *server = colon + 1;
    size_t n;
    if (!auth_b64_decode(salt, (size_t)(dollar - salt), cred->salt, sizeof(cred->salt), &n) ||
        n == 0)
        return false;
    cred->salt_len = n;
    if (!auth_b64_decode(stored, (size_t)(colon - stored), cred->stored_key, SCRAM_KEY_LEN, &n) ||
        n != SCRAM_KEY_LEN)
        return false;
    if (!auth_b64_decode(server, strlen(server), cred->server_key, SCRAM_KEY_LEN, &n) ||
        n != SCRAM_KEY_LEN)
        return false;
    cred->iterations = (int)iter;
    cred->has_scram = true;
    return true;
}

/* --- credentials file ---------------------------------------------------- */

/* Read one quoted token at *p ("" is a quote); NULL when there is none. */
static char *read_quoted(const char **p)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '"')
        return NULL;
    s++;
    Buf b = {0};
    for (;;) {
        if (*s == '\0' || *s == '\n') {
            buf_free(&b);
            return NULL;
        }
        if (*s == '"') {
            if (s[1] == '"') {
                buf_append(&b, "\"", 1);
                s += 2;
                continue;
            }
            s++;
            break;
        }
        buf_append(&b, s, 1);
        s++;
    }
    buf_append(&b, "", 1);
    *p = s;
    return (char *)b.data;
}

static bool is_md5_hash(const char *s)
{
    if (strncmp(s, "md5", 3) != 0 || strlen(s) != 35)
        return false;
    for (const char *p = s + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static bool cred_from_secret(Credential *c, char *secret, const char *name, int line)
{
    if (strncmp(secret, "SCRAM-SHA-256$", 14) == 0) {
        c->kind = CRED_SCRAM;
        bool ok = auth_scram_parse_verifier(secret, c);
        free(secret);
        if (!ok) {
            err_set(DD_EXIT_CONFIG,
                    "invalid SCRAM-SHA-256 verifier for user \"%s\" in \"%s\" line %d", c->user,
                    name, line);
            err_hint("copy the verifier from pg_authid.rolpassword, or give the password");
            return false;
        }
        return true;
    }
    c->secret = secret;
    if (is_md5_hash(secret)) {
        c->kind = CRED_MD5;
        return true;
    }
    c->kind = CRED_PLAIN;
    c->salt_len = 16;
    rand_bytes(c->salt, c->salt_len);
    c->iterations = SCRAM_DEFAULT_ITERS;
    scram_keys_from_password(secret, c->salt, c->salt_len, c->iterations, NULL, c->stored_key,
                             c->server_key);
    c->has_scram = true;
    return true;
}

static bool parse_line(const char *s, const char *name, int line, Credentials *out)
{
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    if (*p == '\0' || *p == '\n' || *p == ';' || *p == '#')
        return true;
    char *user = read_quoted(&p);
    char *secret = user ? read_quoted(&p) : NULL;
    if (!user || !secret) {
        free(user);
        err_set(DD_EXIT_CONFIG,
                "invalid line %d in credentials file \"%s\": expected \"user\" "
                "\"secret\"",
                line, name);
        err_hint("write one \"user\" \"password-or-SCRAM-verifier\" a line (PgBouncer's userlist "
                 "format)");
        return false;
    }
    if (!user[0]) {
        free(user);
        free(secret);
        err_set(DD_EXIT_CONFIG, "empty user name on line %d of credentials file \"%s\"", line,
                name);
        err_hint("write one \"user\" \"password-or-SCRAM-verifier\" a line");
        return false;
    }
    if (auth_credentials_find(out, user)) {
        err_set(DD_EXIT_CONFIG, "duplicate user \"%s\" on line %d of credentials file \"%s\"", user,
                line, name);
        err_hint("keep one line per user");
        free(user);
        free(secret);
        return false;
    }
    out->items = xrealloc(out->items, (out->len + 1) * sizeof(Credential));
    Credential *c = &out->items[out->len];
    memset(c, 0, sizeof(*c));
    c->user = user;
    if (!cred_from_secret(c, secret, name, line)) {
        free(user);
        return false;
    }
    out->len++;
    return true;
}

bool auth_credentials_parse(const char *text, const char *name, Credentials *out)
{
    memset(out, 0, sizeof(*out));
    int line = 1;
    const char *s = text;
    while (*s) {
        if (!parse_line(s, name, line, out)) {
            auth_credentials_free(out);
            return false;
        }
        const char *nl = strchr(s, '\n');
        if (!nl)
            break;
        s = nl + 1;
        line++;
    }
    return true;
}

bool auth_credentials_load(const char *path, Credentials *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_errno("could not open credentials file \"%s\"", path);
        err_hint("create it with one \"user\" \"password\" a line, mode 0600, or set [proxy] "
                 "credentials");
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return err_errno("could not stat credentials file \"%s\"", path);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        err_set(DD_EXIT_CONFIG, "credentials file \"%s\" has group or world access (mode %04o)",
                path, (unsigned)(st.st_mode & 07777));
        err_hint("chmod 600 \"%s\"", path);
        return false;
    }
    if (st.st_size > CRED_FILE_MAX) {
        close(fd);
        return err_set(DD_EXIT_CONFIG, "credentials file \"%s\" is too large", path);
    }
    char *text = xmalloc((size_t)st.st_size + 1);
    ssize_t n = read(fd, text, (size_t)st.st_size);
    close(fd);
    if (n < 0) {
        free(text);
        return err_errno("could not read credentials file \"%s\"", path);
    }
    text[n] = '\0';
    if (memchr(text, '\0', (size_t)n)) {
        free(text);
        return err_set(DD_EXIT_CONFIG, "credentials file \"%s\" contains a NUL byte", path);
    }
    bool ok = auth_credentials_parse(text, path, out);
    free(text);
    return ok;
}

bool auth_token_create(const char *path)
{
    /* O_EXCL: never overwrite a token that a running proxy or a client may use. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        bool exists = errno == EEXIST;
        err_errno("could not create admin token file \"%s\"", path);
        if (exists)
            err_hint("a token is already there: use it, or remove the file first to replace it");
        return false;
    }
    char text[2 * AUTH_TOKEN_BYTES + 2];
    rand_hex(text, AUTH_TOKEN_BYTES);
    strcat(text, "\n");
    size_t len = strlen(text);
    bool ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int e = errno;
    explicit_bzero(text, sizeof(text));
    close(fd);
    if (!ok) {
        unlink(path);
        errno = e;
        return err_errno("could not write admin token file \"%s\"", path);
    }
    return true;
}

bool auth_token_load(const char *path, char **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_errno("could not open admin token file \"%s\"", path);
        err_hint("create it with \"drydock proxy-ctl token-create %s\" (random, mode 0600), or "
                 "fix [proxy] admin-token-file",
                 path);
        return false;
    }
    struct stat st = {0};
    char text[1024];
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && !(st.st_mode & (S_IRWXG | S_IRWXO)))
        n = read(fd, text, sizeof(text) - 1);
    int e = errno;
    close(fd);
    if (n < 0 && !(st.st_mode & (S_IRWXG | S_IRWXO))) {
        errno = e;
        return err_errno("could not read admin token file \"%s\"", path);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        err_set(DD_EXIT_CONFIG, "admin token file \"%s\" has group or world access (mode %04o)",
                path, (unsigned)(st.st_mode & 07777));
        err_hint("chmod 600 \"%s\"", path);
        return false;
    }
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';
    bool printable = n >= 16 && n < (ssize_t)sizeof(text) - 1;
    for (ssize_t i = 0; printable && i < n; i++)
        printable = text[i] > ' ' && text[i] < 127;
    if (!printable) {
        explicit_bzero(text, sizeof(text));
        err_set(DD_EXIT_CONFIG,
                "admin token file \"%s\" must hold one line of 16 to 1000 printable characters",
                path);
        err_hint("write a random token into it: openssl rand -hex 32 > \"%s\"", path);
        return false;
    }
    *out = xstrdup(text);
    explicit_bzero(text, sizeof(text));
    return true;
}

const Credential *auth_credentials_find(const Credentials *c, const char *user)
{
    for (size_t i = 0; i < c->len; i++)
        if (strcmp(c->items[i].user, user) == 0)
            return &c->items[i];
    return NULL;
}

void auth_credentials_free(Credentials *c)
{
    for (size_t i = 0; i < c->len; i++) {
        free(c->items[i].user);
        if (c->items[i].secret) {
            explicit_bzero(c->items[i].secret, strlen(c->items[i].secret));
            free(c->items[i].secret);
        }
    }
    free(c->items);
    c->items = NULL;
    c->len = 0;
}

/* --- SCRAM server side --------------------------------------------------- */

void auth_scram_mock(Credential *out, const char *user, const uint8_t secret[SCRAM_MOCK_SECRET_LEN])
{
    memset(out, 0, sizeof(*out));
    out->user = (char *)user;
    out->kind = CRED_SCRAM;
    out->has_scram = true;
    out->iterations = SCRAM_DEFAULT_ITERS;
    uint8_t mac[SCRAM_KEY_LEN];
    hmac256(secret, SCRAM_MOCK_SECRET_LEN, user, strlen(user), mac);
    out->salt_len = 16; /* PostgreSQL's SCRAM_DEFAULT_SALT_LEN */
    memcpy(out->salt, mac, out->salt_len);
    rand_bytes(out->stored_key, SCRAM_KEY_LEN);
    rand_bytes(out->server_key, SCRAM_KEY_LEN);
}

/* Find "<key>=value" as an attribute of a comma list; returns value and its length. */
static const char *scram_attr(const char *msg, size_t len, char key, size_t *vlen)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && msg[j] != ',')
            j++;
        if (j - i >= 2 && msg[i] == key && msg[i + 1] == '=') {
            *vlen = j - i - 2;
            return msg + i + 2;
        }
        i = j + 1;
    }
    return NULL;
}

static bool scram_bad(const char *what)
{
    err_set(DD_EXIT_PROTOCOL, "malformed SCRAM message: %s", what);
    err_hint("the client must speak SCRAM-SHA-256 (RFC 7677), or SCRAM-SHA-256-PLUS with "
             "tls-server-end-point over TLS");
    return false;
}

bool scram_server_first(ScramServer *s, const Credential *cred, const char *msg, size_t len,
                        Buf *out)
{
    ScramServer keep = *s; /* the caller's channel binding settings */
    memset(s, 0, sizeof(*s));
    s->plus_offered = keep.plus_offered;
    s->plus_chosen = keep.plus_chosen;
    memcpy(s->cbind, keep.cbind, sizeof(s->cbind));
    s->cbind_len = keep.cbind_len;
    if (memchr(msg, '\0', len))
        return scram_bad("NUL byte in client-first-message");
    if (len < 3 || (msg[0] != 'n' && msg[0] != 'y' && msg[0] != 'p'))
        return scram_bad("unexpected GS2 header");
    if (msg[0] == 'p') {
        static const char want[] = "p=tls-server-end-point,";
        if (!s->plus_chosen || s->cbind_len == 0)
            return scram_bad("channel binding asked without SCRAM-SHA-256-PLUS");
        if (len < sizeof(want) - 1 || memcmp(msg, want, sizeof(want) - 1) != 0)
            return scram_bad("unsupported channel binding type: expected tls-server-end-point");
    } else if (s->plus_chosen) {
        return scram_bad("SCRAM-SHA-256-PLUS chosen without channel binding");
    } else if (msg[0] == 'y' && s->plus_offered) {
        return scram_bad("the client can bind the channel but thinks the proxy cannot "
                         "(a downgrade?)");
    }
    /* gs2-header = cbind-flag "," [authzid] "," */
    const char *c1 = memchr(msg, ',', len);
    const char *c2 = c1 ? memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - msg)) : NULL;
    if (!c1 || (msg[0] != 'p' && c1 != msg + 1) || !c2)
        return scram_bad("unexpected GS2 header");
    size_t gs2_len = (size_t)(c2 + 1 - msg);
    if (gs2_len >= sizeof(s->gs2))
        return scram_bad("GS2 header too long");
    memcpy(s->gs2, msg, gs2_len);
    const char *bare = c2 + 1;
    size_t bare_len = len - gs2_len;
    size_t nlen;
    const char *cnonce = scram_attr(bare, bare_len, 'r', &nlen);
    if (!cnonce || nlen == 0 || nlen > 40 || bare[0] != 'n')
        return scram_bad("client-first-message lacks the user or the nonce");
    char *snonce = random_nonce(18);
    snprintf(s->nonce, sizeof(s->nonce), "%.*s%s", (int)nlen, cnonce, snonce);
    free(snonce);
    s->client_first_bare = xstrndup(bare, bare_len);
    char *salt = auth_b64_encode(cred->salt, cred->salt_len);
    s->server_first = xasprintf("r=%s,s=%s,i=%d", s->nonce, salt, cred->iterations);
    free(salt);
    buf_append_str(out, s->server_first);
    return true;
}

bool scram_server_final(ScramServer *s, const Credential *cred, const char *msg, size_t len,
                        Buf *out)
{
    if (!s->server_first || memchr(msg, '\0', len))
        return scram_bad("unexpected client-final-message");
    /* client-final-message-without-proof "," "p=" proof; proof is last. */
    const char *p = NULL;
    for (size_t i = len; i >= 3; i--)
        if (msg[i - 3] == ',' && msg[i - 2] == 'p' && msg[i - 1] == '=') {
            p = msg + i - 3;
            break;
        }
    if (!p)
        return scram_bad("client-final-message lacks the proof");
    size_t without_len = (size_t)(p - msg);
    size_t vlen;
    const char *cb = scram_attr(msg, without_len, 'c', &vlen);
    /* c= is the GS2 header, followed by the binding data when the channel is bound. */
    Buf cbin = {0};
    buf_append(&cbin, s->gs2, strlen(s->gs2));
    if (s->gs2[0] == 'p')
        buf_append(&cbin, s->cbind, s->cbind_len);
    char *want_cb = auth_b64_encode(cbin.data, cbin.len);
    buf_free(&cbin);
    bool cb_ok = cb && vlen == strlen(want_cb) && memcmp(cb, want_cb, vlen) == 0;
    free(want_cb);
    if (!cb_ok)
        return scram_bad(s->gs2[0] == 'p' ? "the channel binding does not match the proxy's "
                                            "certificate"
                                          : "unexpected channel binding");
    const char *nonce = scram_attr(msg, without_len, 'r', &vlen);
    if (!nonce || vlen != strlen(s->nonce) || memcmp(nonce, s->nonce, vlen) != 0)
        return scram_bad("nonce does not match");
    uint8_t proof[SCRAM_KEY_LEN];
    size_t proof_len;
    if (!auth_b64_decode(p + 3, len - without_len - 3, proof, sizeof(proof), &proof_len) ||
        proof_len != SCRAM_KEY_LEN)
        return scram_bad("malformed proof");
    char *auth_msg =
        xasprintf("%s,%s,%.*s", s->client_first_bare, s->server_first, (int)without_len, msg);
    uint8_t sig[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN];
    hmac256(cred->stored_key, SCRAM_KEY_LEN, auth_msg, strlen(auth_msg), sig);
    for (int i = 0; i < SCRAM_KEY_LEN; i++)
        s->client_key[i] = proof[i] ^ sig[i];
    sha256(s->client_key, SCRAM_KEY_LEN, stored);
    if (CRYPTO_memcmp(stored, cred->stored_key, SCRAM_KEY_LEN) != 0) {
        free(auth_msg);
        return err_set(DD_EXIT_PROTOCOL, "password authentication failed for user \"%s\"",
                       cred->user);
    }
    uint8_t server_sig[SCRAM_KEY_LEN];
    hmac256(cred->server_key, SCRAM_KEY_LEN, auth_msg, strlen(auth_msg), server_sig);
    free(auth_msg);
    char *v = auth_b64_encode(server_sig, SCRAM_KEY_LEN);
    buf_append_str(out, "v=");
    buf_append_str(out, v);
    free(v);
    return true;
}

void scram_server_free(ScramServer *s)
{
    free(s->client_first_bare);
    free(s->server_first);
    s->client_first_bare = s->server_first = NULL;
}

/* --- SCRAM client side --------------------------------------------------- */

void scram_client_first(ScramClient *c, Buf *out)
{
    int max_iterations = c->max_iterations;
    memset(c, 0, sizeof(*c));
    c->max_iterations = max_iterations;
    char *nonce = random_nonce(18);
    snprintf(c->nonce, sizeof(c->nonce), "%s", nonce);
    free(nonce);
    c->client_first_bare = xasprintf("n=,r=%s", c->nonce);
    buf_append_str(out, "n,,");
    buf_append_str(out, c->client_first_bare);
}

/* Keys for a plaintext credential and the server's salt, from the cache when it matches. */
static void plain_keys(Credential *cred, const uint8_t *salt, size_t salt_len, int iterations,
                       uint8_t *ck, uint8_t *stored, uint8_t *server_key)
{
    if (!cred->has_cache || cred->cache_iterations != iterations ||
        cred->cache_salt_len != salt_len || memcmp(cred->cache_salt, salt, salt_len) != 0) {
        scram_keys_from_password(cred->secret, salt, salt_len, iterations, cred->cache_client_key,
                                 cred->cache_stored_key, cred->cache_server_key);
        memcpy(cred->cache_salt, salt, salt_len);
        cred->cache_salt_len = salt_len;
        cred->cache_iterations = iterations;
        cred->has_cache = true;
    }
    memcpy(ck, cred->cache_client_key, SCRAM_KEY_LEN);
    memcpy(stored, cred->cache_stored_key, SCRAM_KEY_LEN);
    memcpy(server_key, cred->cache_server_key, SCRAM_KEY_LEN);
}

bool scram_client_final(ScramClient *c, Credential *cred, const uint8_t *client_key,
                        const char *msg, size_t len, Buf *out)
{
    size_t nlen, slen, ilen;
    const char *nonce = scram_attr(msg, len, 'r', &nlen);
    const char *salt64 = scram_attr(msg, len, 's', &slen);
    const char *iter = scram_attr(msg, len, 'i', &ilen);
    size_t mine = strlen(c->nonce);
    if (!nonce || !salt64 || !iter || nlen <= mine || memcmp(nonce, c->nonce, mine) != 0 ||
        ilen == 0 || ilen > 9 || memchr(msg, '\0', len))
        return err_set(DD_EXIT_PROTOCOL, "malformed SCRAM server-first-message from the server");
    uint8_t salt[SCRAM_SALT_MAX];
    size_t salt_len;
    if (!auth_b64_decode(salt64, slen, salt, sizeof(salt), &salt_len))
        return err_set(DD_EXIT_PROTOCOL, "malformed SCRAM salt from the server");
    char ibuf[10];
    memcpy(ibuf, iter, ilen);
    ibuf[ilen] = '\0';
    int iterations = atoi(ibuf);
    if (iterations < 1)
        return err_set(DD_EXIT_PROTOCOL, "malformed SCRAM iteration count from the server");
    int max = c->max_iterations > 0 ? c->max_iterations : SCRAM_MAX_ITERS;
    if (iterations > max) {
        err_set(DD_EXIT_PG,
                "the server asks %d SCRAM iterations for user \"%s\", more than the %d allowed",
                iterations, cred->user, max);
        err_hint("lower scram_iterations on the server, or raise [proxy] "
                 "server-scram-max-iterations");
        return false;
    }
    uint8_t ck[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN], server_key[SCRAM_KEY_LEN];
    if (cred->kind == CRED_PLAIN) {
        plain_keys(cred, salt, salt_len, iterations, ck, stored, server_key);
    } else if (cred->kind == CRED_SCRAM && client_key && salt_len == cred->salt_len &&
               memcmp(salt, cred->salt, salt_len) == 0 && iterations == cred->iterations) {
        memcpy(ck, client_key, SCRAM_KEY_LEN);
        memcpy(stored, cred->stored_key, SCRAM_KEY_LEN);
        memcpy(server_key, cred->server_key, SCRAM_KEY_LEN);
    } else {
        err_set(DD_EXIT_PG,
                "cannot authenticate user \"%s\" to the server with SCRAM: the "
                "credentials file holds no usable secret",
                cred->user);
        err_hint("put the plaintext password, or the server's own SCRAM verifier, in the "
                 "credentials file");
        return false;
    }
    char *without = xasprintf("c=biws,r=%.*s", (int)nlen, nonce);
    char *auth_msg = xasprintf("%s,%.*s,%s", c->client_first_bare, (int)len, msg, without);
    uint8_t sig[SCRAM_KEY_LEN], proof[SCRAM_KEY_LEN];
    hmac256(stored, SCRAM_KEY_LEN, auth_msg, strlen(auth_msg), sig);
    for (int i = 0; i < SCRAM_KEY_LEN; i++)
        proof[i] = ck[i] ^ sig[i];
    hmac256(server_key, SCRAM_KEY_LEN, auth_msg, strlen(auth_msg), c->server_signature);
    char *p64 = auth_b64_encode(proof, SCRAM_KEY_LEN);
    buf_printf(out, "%s,p=%s", without, p64);
    free(p64);
    free(without);
    free(auth_msg);
    return true;
}

bool scram_client_verify(ScramClient *c, const char *msg, size_t len)
{
    size_t vlen;
    const char *v = scram_attr(msg, len, 'v', &vlen);
    uint8_t sig[SCRAM_KEY_LEN];
    size_t sig_len;
    if (!v || !auth_b64_decode(v, vlen, sig, sizeof(sig), &sig_len) || sig_len != SCRAM_KEY_LEN ||
        CRYPTO_memcmp(sig, c->server_signature, SCRAM_KEY_LEN) != 0)
        return err_set(DD_EXIT_PROTOCOL, "the server's SCRAM signature is wrong");
    return true;
}

void scram_client_free(ScramClient *c)
{
    free(c->client_first_bare);
    c->client_first_bare = NULL;
}

/* --- md5 ----------------------------------------------------------------- */

static void md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char d[16];
    unsigned int n = 16;
    EVP_Digest(data, len, d, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

bool auth_md5_response(const Credential *cred, const char *user, const uint8_t salt[4],
                       char out[36])
{
    char inner[36];
    if (cred->kind == CRED_PLAIN) {
        char *pu = xasprintf("%s%s", cred->secret, user);
        md5_hex(pu, strlen(pu), inner);
        explicit_bzero(pu, strlen(pu));
        free(pu);
    } else if (cred->kind == CRED_MD5) {
        memcpy(inner, cred->secret + 3, 33);
    } else {
        err_set(DD_EXIT_PG,
                "cannot answer the server's md5 challenge for user \"%s\" with a "
                "SCRAM verifier",
                cred->user);
        err_hint("put the plaintext password in the credentials file");
        return false;
    }
    uint8_t salted[36];
    memcpy(salted, inner, 32);
    memcpy(salted + 32, salt, 4);
    memcpy(out, "md5", 3);
    md5_hex(salted, 36, out + 3);
    return true;
}
