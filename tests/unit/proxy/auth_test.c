/*
 * auth_test.c - SCRAM-SHA-256 against the RFC 7677 test vector (both
 * sides), verifiers, md5, and the credentials file with each error message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proxy/auth.h"

/* RFC 7677, section 3: user "user", password "pencil". */
#define RFC_CLIENT_FIRST_BARE "n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_NONCE             "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SERVER_FIRST      "r=" RFC_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CLIENT_FINAL      "c=biws,r=" RFC_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
#define RFC_VERIFIER                                                                               \
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"    \
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static Credential rfc_credential(void)
{
    Credential c = {0};
    c.user = "user";
    c.kind = CRED_PLAIN;
    c.secret = "pencil";
    size_t n;
    assert_true(auth_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, c.salt, sizeof(c.salt), &n));
    c.salt_len = n;
    c.iterations = 4096;
    scram_keys_from_password("pencil", c.salt, c.salt_len, 4096, NULL, c.stored_key, c.server_key);
    c.has_scram = true;
    return c;
}

static void test_scram_server_rfc7677(void **state)
{
    (void)state;
    Credential c = rfc_credential();
    ScramServer s = {0};
    s.client_first_bare = strdup(RFC_CLIENT_FIRST_BARE);
    s.server_first = strdup(RFC_SERVER_FIRST);
    strcpy(s.nonce, RFC_NONCE);
    strcpy(s.gs2, "n,,");
    Buf out = {0};
    assert_true(scram_server_final(&s, &c, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), &out));
    buf_append(&out, "", 1);
    assert_string_equal((char *)out.data, RFC_SERVER_FINAL);
    buf_free(&out);

    /* A wrong proof (one character changed) is refused. */
    char bad[] = RFC_CLIENT_FINAL;
    bad[strlen(bad) - 3] = 'A';
    assert_false(scram_server_final(&s, &c, bad, strlen(bad), &out));
    assert_string_equal(err_message(), "password authentication failed for user \"user\"");
    /* A nonce that is not ours is refused. */
    const char *other = "c=biws,r=xyz,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    assert_false(scram_server_final(&s, &c, other, strlen(other), &out));
    assert_string_equal(err_message(), "malformed SCRAM message: nonce does not match");
    scram_server_free(&s);
    buf_free(&out);
}

static void test_scram_server_first(void **state)
{
    (void)state;
    Credential c = rfc_credential();
    ScramServer s = {0};
    Buf out = {0};
    const char *first = "n,," RFC_CLIENT_FIRST_BARE;
    assert_true(scram_server_first(&s, &c, first, strlen(first), &out));
    buf_append(&out, "", 1);
    assert_true(strncmp((char *)out.data, "r=rOprNGfwEbeRWgbNEkqO", 22) == 0);
    assert_non_null(strstr((char *)out.data, ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
    scram_server_free(&s);
    const struct {
        const char *msg, *error;
    } bad[] = {
        {"p=tls-server-end-point,,n=,r=abc", "malformed SCRAM message: channel binding asked "
                                             "without SCRAM-SHA-256-PLUS"},
        {"x,,n=,r=abc", "malformed SCRAM message: unexpected GS2 header"},
        {"n,,n=user", "malformed SCRAM message: client-first-message lacks the user or the nonce"},
        {"n", "malformed SCRAM message: unexpected GS2 header"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_reset(&out);
        if (scram_server_first(&s, &c, bad[i].msg, strlen(bad[i].msg), &out))
            fail_msg("\"%s\" accepted", bad[i].msg);
        assert_string_equal(err_message(), bad[i].error);
        scram_server_free(&s);
    }
    buf_free(&out);
}

/* A client-final-message for password "pencil" (the RFC credential), with channel data cbin. */
static char *client_final_for(const char *client_first_bare, const char *server_first,
                              const uint8_t *cbin, size_t cbin_len)
{
    Credential c = rfc_credential();
    uint8_t ck[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN], sk[SCRAM_KEY_LEN];
    scram_keys_from_password("pencil", c.salt, c.salt_len, 4096, ck, stored, sk);
    char *c64 = auth_b64_encode(cbin, cbin_len);
    const char *r = strstr(server_first, "r=") + 2;
    size_t rlen = strcspn(r, ",");
    char *without = NULL, *auth_msg = NULL, *out = NULL;
    assert_true(asprintf(&without, "c=%s,r=%.*s", c64, (int)rlen, r) > 0);
    assert_true(asprintf(&auth_msg, "%s,%s,%s", client_first_bare, server_first, without) > 0);
    uint8_t sig[SCRAM_KEY_LEN], proof[SCRAM_KEY_LEN];
    unsigned int n = SCRAM_KEY_LEN;
    HMAC(EVP_sha256(), stored, SCRAM_KEY_LEN, (const uint8_t *)auth_msg, strlen(auth_msg), sig, &n);
    for (int i = 0; i < SCRAM_KEY_LEN; i++)
        proof[i] = ck[i] ^ sig[i];
    char *p64 = auth_b64_encode(proof, SCRAM_KEY_LEN);
    assert_true(asprintf(&out, "%s,p=%s", without, p64) > 0);
    free(c64);
    free(without);
    free(auth_msg);
    free(p64);
    return out;
}

/*
 * SCRAM-SHA-256-PLUS with tls-server-end-point: the client's c= must carry
 * the hash of the proxy's certificate; a wrong hash, a "y" flag when PLUS
 * was offered (downgrade) and PLUS without binding are refused.
 */
static void test_scram_channel_binding(void **state)
{
    (void)state;
    Credential c = rfc_credential();
    const char *bare = "n=,r=rOprNGfwEbeRWgbNEkqO";
    uint8_t cert_hash[32];
    memset(cert_hash, 0xab, sizeof(cert_hash));
    const struct {
        const char *title;
        bool offered, chosen;
        const char *gs2;
        bool wrong_hash;
        const char *error; /* NULL: authenticated */
    } cases[] = {
        {"bound to the proxy's certificate", true, true, "p=tls-server-end-point,,", false, NULL},
        {"bound to another certificate", true, true, "p=tls-server-end-point,,", true,
         "malformed SCRAM message: the channel binding does not match the proxy's certificate"},
        {"PLUS offered, plain SCRAM chosen, n flag", true, false, "n,,", false, NULL},
        {"PLUS offered, the client says y", true, false, "y,,", false,
         "malformed SCRAM message: the client can bind the channel but thinks the proxy cannot "
         "(a downgrade?)"},
        {"PLUS not offered, y flag", false, false, "y,,", false, NULL},
        {"PLUS chosen with the n flag", true, true, "n,,", false,
         "malformed SCRAM message: SCRAM-SHA-256-PLUS chosen without channel binding"},
        {"another binding type", true, true, "p=tls-unique,,", false,
         "malformed SCRAM message: unsupported channel binding type: expected "
         "tls-server-end-point"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ScramServer s = {.plus_offered = cases[i].offered, .plus_chosen = cases[i].chosen};
        memcpy(s.cbind, cert_hash, sizeof(cert_hash));
        s.cbind_len = sizeof(cert_hash);
        char *first = NULL;
        assert_true(asprintf(&first, "%s%s", cases[i].gs2, bare) > 0);
        Buf sf = {0}, out = {0};
        bool ok = scram_server_first(&s, &c, first, strlen(first), &sf);
        if (ok) {
            buf_append(&sf, "", 1);
            Buf cbin = {0};
            buf_append(&cbin, cases[i].gs2, strlen(cases[i].gs2));
            if (cases[i].gs2[0] == 'p') {
                uint8_t h[32];
                memset(h, cases[i].wrong_hash ? 0xcd : 0xab, sizeof(h));
                buf_append(&cbin, h, sizeof(h));
            }
            char *final = client_final_for(bare, (char *)sf.data, cbin.data, cbin.len);
            ok = scram_server_final(&s, &c, final, strlen(final), &out);
            free(final);
            buf_free(&cbin);
        }
        if (!cases[i].error && !ok)
            fail_msg("%s: refused: %s", cases[i].title, err_message());
        if (cases[i].error && (ok || strcmp(err_message(), cases[i].error) != 0))
            fail_msg("%s: expected \"%s\", got %s", cases[i].title, cases[i].error,
                     ok ? "success" : err_message());
        scram_server_free(&s);
        free(first);
        buf_free(&sf);
        buf_free(&out);
    }
}

static void test_scram_client_rfc7677(void **state)
{
    (void)state;
    Credential c = rfc_credential();
    ScramClient cl = {0};
    cl.client_first_bare = strdup(RFC_CLIENT_FIRST_BARE);
    strcpy(cl.nonce, "rOprNGfwEbeRWgbNEkqO");
    Buf out = {0};
    assert_true(
        scram_client_final(&cl, &c, NULL, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &out));
    buf_append(&out, "", 1);
    assert_string_equal((char *)out.data, RFC_CLIENT_FINAL);
    assert_true(scram_client_verify(&cl, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL)));
    assert_false(scram_client_verify(&cl, "v=AAAA", 6));
    assert_string_equal(err_message(), "the server's SCRAM signature is wrong");

    /* From a verifier and the ClientKey recovered from a client's proof. */
    Credential v = {0};
    v.user = "user";
    v.kind = CRED_SCRAM;
    assert_true(auth_scram_parse_verifier(RFC_VERIFIER, &v));
    assert_memory_equal(v.stored_key, c.stored_key, SCRAM_KEY_LEN);
    assert_memory_equal(v.server_key, c.server_key, SCRAM_KEY_LEN);
    uint8_t ck[SCRAM_KEY_LEN], sk[SCRAM_KEY_LEN], svk[SCRAM_KEY_LEN];
    scram_keys_from_password("pencil", c.salt, c.salt_len, 4096, ck, sk, svk);
    buf_reset(&out);
    assert_true(scram_client_final(&cl, &v, ck, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &out));
    buf_append(&out, "", 1);
    assert_string_equal((char *)out.data, RFC_CLIENT_FINAL);
    /* Without the ClientKey a verifier cannot answer. */
    buf_reset(&out);
    assert_false(
        scram_client_final(&cl, &v, NULL, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &out));
    assert_string_equal(err_message(),
                        "cannot authenticate user \"user\" to the server with SCRAM: "
                        "the credentials file holds no usable secret");
    scram_client_free(&cl);
    buf_free(&out);
}

/*
 * An unknown user gets the same exchange as a known one: a server-first
 * message of the same shape (nonce, a 16-byte salt, 4096 iterations), a
 * salt that is stable for the user and differs between users, and the
 * same failure at the proof as a wrong password.
 */
static void test_scram_mock(void **state)
{
    (void)state;
    uint8_t secret[SCRAM_MOCK_SECRET_LEN], other[SCRAM_MOCK_SECRET_LEN];
    memset(secret, 7, sizeof(secret));
    memset(other, 8, sizeof(other));
    Credential a, a2, b, a_other;
    auth_scram_mock(&a, "nosuchuser", secret);
    auth_scram_mock(&a2, "nosuchuser", secret);
    auth_scram_mock(&b, "another", secret);
    auth_scram_mock(&a_other, "nosuchuser", other);
    assert_int_equal(a.salt_len, 16);
    assert_int_equal(a.iterations, 4096);
    assert_memory_equal(a.salt, a2.salt, a.salt_len);
    assert_memory_not_equal(a.salt, b.salt, a.salt_len);
    assert_memory_not_equal(a.salt, a_other.salt, a.salt_len);
    assert_memory_not_equal(a.stored_key, a2.stored_key, SCRAM_KEY_LEN);

    /* The whole exchange, as a client with some password would run it. */
    const char *first = "n,,n=,r=abcdefghijklmnop";
    Buf sfirst = {0}, cfinal = {0}, sfinal = {0};
    ScramServer srv = {0};
    assert_true(scram_server_first(&srv, &a, first, strlen(first), &sfirst));
    buf_append(&sfirst, "", 1);
    const char *sf = (const char *)sfirst.data;
    assert_true(strncmp(sf, "r=abcdefghijklmnop", 18) == 0);
    assert_non_null(strstr(sf, ",s="));
    assert_non_null(strstr(sf, ",i=4096"));
    Credential pw = {.user = "nosuchuser", .kind = CRED_PLAIN, .secret = "guess"};
    ScramClient cl = {0};
    cl.client_first_bare = strdup("n=,r=abcdefghijklmnop");
    strcpy(cl.nonce, "abcdefghijklmnop");
    assert_true(scram_client_final(&cl, &pw, NULL, sf, strlen(sf), &cfinal));
    assert_false(scram_server_final(&srv, &a, (const char *)cfinal.data, cfinal.len, &sfinal));
    assert_string_equal(err_message(), "password authentication failed for user \"nosuchuser\"");
    scram_server_free(&srv);
    scram_client_free(&cl);
    buf_free(&sfirst);
    buf_free(&cfinal);
    buf_free(&sfinal);
}

/* A server may not ask more iterations than allowed: PBKDF2 would freeze the event loop. */
static void test_scram_client_iteration_cap(void **state)
{
    (void)state;
    const struct {
        const char *title;
        int max, iterations;
        bool ok;
    } cases[] = {
        {"the default allows 4096", 0, 4096, true},
        {"the default refuses ten million", 0, 10000000, false},
        {"a cap of 8192 allows 8192", 8192, 8192, true},
        {"a cap of 8192 refuses 8193", 8192, 8193, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Credential c = {.user = "u", .kind = CRED_PLAIN, .secret = "pw"};
        ScramClient cl = {.max_iterations = cases[i].max};
        Buf first = {0}, out = {0};
        scram_client_first(&cl, &first);
        assert_int_equal(cl.max_iterations, cases[i].max);
        char *sf = NULL;
        assert_true(asprintf(&sf, "r=%sXYZ,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=%d", cl.nonce,
                             cases[i].iterations) > 0);
        bool ok = scram_client_final(&cl, &c, NULL, sf, strlen(sf), &out);
        if (ok != cases[i].ok)
            fail_msg("%s: %s", cases[i].title, ok ? "accepted" : err_message());
        if (!ok && strstr(err_message(), "SCRAM iterations for user \"u\", more than the") == NULL)
            fail_msg("%s: message \"%s\"", cases[i].title, err_message());
        free(sf);
        scram_client_free(&cl);
        buf_free(&first);
        buf_free(&out);
    }
}

static void test_md5(void **state)
{
    (void)state;
    Credential c = {.user = "user", .kind = CRED_PLAIN, .secret = "pencil"};
    const uint8_t salt[4] = {1, 2, 3, 4};
    char out[36];
    assert_true(auth_md5_response(&c, "user", salt, out));
    assert_string_equal(out, "md54376eb6913b38f9aaff38dc7cf19ca76");
    Credential h = {
        .user = "user", .kind = CRED_MD5, .secret = "md520c46e3762c864548e296b33c3406aa9"};
    assert_true(auth_md5_response(&h, "user", salt, out));
    assert_string_equal(out, "md54376eb6913b38f9aaff38dc7cf19ca76");
}

static void test_credentials_parse(void **state)
{
    (void)state;
    Credentials cr;
    const char *text = "; comment\n"
                       "# another\n"
                       "\n"
                       "\"alice\" \"secret\"\n"
                       "  \"bob\"\t\"md520c46e3762c864548e296b33c3406aa9\" \"ignored\"\n"
                       "\"c\"\"q\" \"" RFC_VERIFIER "\"\n";
    assert_true(auth_credentials_parse(text, "f", &cr));
    assert_int_equal(cr.len, 3);
    const Credential *a = auth_credentials_find(&cr, "alice");
    assert_non_null(a);
    assert_int_equal(a->kind, CRED_PLAIN);
    assert_string_equal(a->secret, "secret");
    assert_true(a->has_scram);
    assert_int_equal(auth_credentials_find(&cr, "bob")->kind, CRED_MD5);
    const Credential *q = auth_credentials_find(&cr, "c\"q");
    assert_non_null(q);
    assert_int_equal(q->kind, CRED_SCRAM);
    assert_int_equal(q->iterations, 4096);
    assert_null(auth_credentials_find(&cr, "nobody"));
    auth_credentials_free(&cr);
}

static void test_credentials_errors(void **state)
{
    (void)state;
    const struct {
        const char *text, *error;
    } cases[] = {
        {"alice secret\n",
         "invalid line 1 in credentials file \"f\": expected \"user\" \"secret\""},
        {"\"alice\"\n", "invalid line 1 in credentials file \"f\": expected \"user\" \"secret\""},
        {"\n\"alice\" \"unterminated\n",
         "invalid line 2 in credentials file \"f\": expected \"user\" \"secret\""},
        {"\"\" \"x\"\n", "empty user name on line 1 of credentials file \"f\""},
        {"\"a\" \"x\"\n\"a\" \"y\"\n", "duplicate user \"a\" on line 2 of credentials file \"f\""},
        {"\"a\" \"SCRAM-SHA-256$4096:abc\"\n",
         "invalid SCRAM-SHA-256 verifier for user \"a\" in \"f\" line 1"},
        {"\"a\" \"SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:AAAA\"\n",
         "invalid SCRAM-SHA-256 verifier for user \"a\" in \"f\" line 1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Credentials cr;
        if (auth_credentials_parse(cases[i].text, "f", &cr))
            fail_msg("case %zu accepted", i);
        assert_string_equal(err_message(), cases[i].error);
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
    }
}

static void test_credentials_file_mode(void **state)
{
    (void)state;
    char path[] = "/tmp/drydock-cred-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\"u\" \"p\"\n", 8), 8);
    close(fd);
    Credentials cr;
    chmod(path, 0640);
    assert_false(auth_credentials_load(path, &cr));
    char want[200];
    snprintf(want, sizeof(want), "credentials file \"%s\" has group or world access (mode 0640)",
             path);
    assert_string_equal(err_message(), want);
    chmod(path, 0600);
    assert_true(auth_credentials_load(path, &cr));
    assert_int_equal(cr.len, 1);
    auth_credentials_free(&cr);
    unlink(path);
    assert_false(auth_credentials_load(path, &cr));
    assert_int_equal(err_code(), DD_EXIT_IO);
}

/* token-create: a 0600 file that auth_token_load takes; never over an existing file. */
static void test_token_create(void **state)
{
    (void)state;
    char dir[] = "/tmp/drydock-token-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], path2[64];
    snprintf(path, sizeof(path), "%s/token", dir);
    snprintf(path2, sizeof(path2), "%s/token2", dir);
    mode_t old = umask(0); /* the file is 0600 whatever the umask */
    assert_true(auth_token_create(path));
    umask(old);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 2 * AUTH_TOKEN_BYTES + 1);
    char *t1 = NULL, *t2 = NULL;
    assert_true(auth_token_load(path, &t1));
    assert_int_equal(strlen(t1), 2 * AUTH_TOKEN_BYTES);
    assert_int_equal(strspn(t1, "0123456789abcdef"), 2 * AUTH_TOKEN_BYTES);
    assert_true(auth_token_create(path2));
    assert_true(auth_token_load(path2, &t2));
    assert_string_not_equal(t1, t2);
    assert_false(auth_token_create(path)); /* exists: refused, kept */
    assert_int_equal(err_code(), DD_EXIT_IO);
    char *t3 = NULL;
    assert_true(auth_token_load(path, &t3));
    assert_string_equal(t1, t3);
    free(t1);
    free(t2);
    free(t3);
    unlink(path);
    unlink(path2);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scram_server_rfc7677),
        cmocka_unit_test(test_scram_server_first),
        cmocka_unit_test(test_scram_mock),
        cmocka_unit_test(test_scram_channel_binding),
        cmocka_unit_test(test_scram_client_iteration_cap),
        cmocka_unit_test(test_scram_client_rfc7677),
        cmocka_unit_test(test_md5),
        cmocka_unit_test(test_credentials_parse),
        cmocka_unit_test(test_credentials_errors),
        cmocka_unit_test(test_credentials_file_mode),
        cmocka_unit_test(test_token_create),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
