// Tests for karton/config.hpp against every row of config.jsonl (spec §1): files by role in a
// scratch directory, injected environment, merged result, redis kwargs and typed getters.
#include "karton/config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "karton/json.hpp"
#include "support/paths.hpp"
#include "util/fs.hpp"

namespace json = karton::json;
namespace fs = std::filesystem;

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
        s.replace(p, from.size(), to);
    }
    return s;
}

struct Scratch {
    util::TempDir dir{"model-cfg"};
    fs::path home() const { return dir.path() / "home"; }
    fs::path user_file() const { return home() / ".config" / "karton" / "karton.ini"; }
    fs::path local_file() const { return dir.path() / "cwd" / "karton.ini"; }
    fs::path env_file() const { return dir.path() / "env.ini"; }
    fs::path arg_file() const { return dir.path() / "extra.ini"; }
};

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    util::write_file_atomic(p, text);
}

void check_redis_kwargs(const karton::Config& cfg, const json::Object& want,
                        const std::string& id) {
    if (const json::Value* err = want.find("error")) {
        EXPECT_EQ(err->as_string(), "KeyError: 'host'");
        try {
            karton::redis_config(cfg);
            ADD_FAILURE() << id << ": redis_config accepted a config without host";
        } catch (const karton::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("host"), std::string::npos) << e.what();
        }
        return;
    }
    const karton::RedisConfig rc = karton::redis_config(cfg);
    EXPECT_EQ(want.at("client_name").as_string(), "karton.consumer");
    if (const json::Value* url = want.find("url")) {
        EXPECT_EQ(rc.url, url->as_string()) << id;
        EXPECT_FALSE(want.contains("host"));
    } else {
        EXPECT_FALSE(rc.url) << id;
        EXPECT_EQ(rc.host, want.at("host").as_string()) << id;
        EXPECT_EQ(rc.port, want.at("port").as_int()) << id;
        EXPECT_EQ(rc.db, want.at("db").as_int()) << id;
        EXPECT_EQ(rc.ssl, want.at("ssl").as_bool()) << id;
    }
    if (const json::Value* t = want.find("socket_timeout")) {
        EXPECT_EQ(rc.socket_timeout, t->as_int()) << id;
    } else {
        EXPECT_FALSE(rc.socket_timeout) << id;
    }
    if (const json::Value* u = want.find("username")) {
        EXPECT_EQ(rc.username, u->as_string()) << id;
    } else {
        EXPECT_FALSE(rc.username) << id;
    }
    if (const json::Value* p = want.find("password")) {
        EXPECT_EQ(rc.password, p->as_string()) << id;
    } else {
        EXPECT_FALSE(rc.password) << id;
    }
}

void check_getters(const karton::Config& cfg, const json::Object& getters, const std::string& id) {
    for (const auto& [call, want] : getters) {
        const std::size_t open = call.find('(');
        const std::size_t dot = call.find('.', open);
        const std::string fn = call.substr(0, open);
        const std::string section = call.substr(open + 1, dot - open - 1);
        const std::string option = call.substr(dot + 1, call.size() - dot - 2);
        const bool is_bool = fn == "getboolean" || fn == "bool";
        if (want.is_object()) {
            const std::string& err = want.as_object().at("error").as_string();
            try {
                if (is_bool) {
                    (void)cfg.get_bool(section, option);
                } else {
                    (void)cfg.get_int(section, option);
                }
                ADD_FAILURE() << id << " " << call << " accepted; reference: " << err;
            } catch (const karton::ConfigError& e) {
                const std::string msg = e.what();
                // The message names the file, section and option.
                EXPECT_NE(msg.find("karton.ini"), std::string::npos) << msg;
                EXPECT_NE(msg.find("[" + section + "] " + option), std::string::npos) << msg;
                if (is_bool) {
                    EXPECT_NE(msg.find(section + "." + option + " is not a correct boolean"),
                              std::string::npos)
                        << msg;
                } else {
                    EXPECT_NE(msg.find("invalid literal for int() with base 10"), std::string::npos)
                        << msg;
                }
            }
        } else if (want.is_null()) {
            EXPECT_FALSE(cfg.get_bool(section, option)) << call;
        } else if (is_bool) {
            EXPECT_EQ(cfg.get_bool(section, option), want.as_bool()) << call;
        } else {
            EXPECT_EQ(cfg.get_int(section, option), want.as_int()) << call;
        }
    }
}

}  // namespace

TEST(ConfigVectors, EveryRow) {
    const auto lines = test_support::read_lines(test_support::vectors_dir() / "config.jsonl");
    ASSERT_EQ(lines.size(), 27u);
    int results = 0;
    int errors = 0;
    for (const auto& line : lines) {
        const json::Value rowv = json::parse(line);
        const json::Object& row = rowv.as_object();
        const std::string& id = row.at("id").as_string();
        SCOPED_TRACE(id);
        Scratch s;
        for (const auto& [role, text] : row.at("files").as_object()) {
            fs::path p;
            if (role.starts_with("user")) {
                p = s.user_file();
            } else if (role.starts_with("local")) {
                p = s.local_file();
            } else if (role.starts_with("KARTON_CONFIG_FILE")) {
                p = s.env_file();
            } else if (role.starts_with("path argument")) {
                p = s.arg_file();
            } else {
                FAIL() << "unknown file role " << role;
            }
            write(p, text.as_string());
        }
        karton::Config::LoadOptions opts;
        opts.search_paths = {s.dir.path() / "etc" / "karton.ini", s.user_file(), s.local_file()};
        if (row.at("files").as_object().contains("path argument")) {
            opts.path = s.arg_file();
        }
        for (const auto& [name, value] : row.at("env").as_object()) {
            opts.env[name] = replace_all(value.as_string(), "<env.ini>", s.env_file().string());
        }
        opts.check_sections = row.at("check_sections").as_bool();
        if (const json::Value* err = row.find("error")) {
            ++errors;
            std::string want = err->as_string();
            want = want.substr(want.find(": ") + 2);
            if (!want.starts_with("Missing")) {
                want = replace_all(want, "'./karton.ini'", "'" + s.local_file().string() + "'");
            }
            try {
                karton::Config::load(opts);
                ADD_FAILURE() << "loaded; reference fails with " << err->as_string();
            } catch (const karton::ConfigError& e) {
                EXPECT_NE(std::string(e.what()).find(want), std::string::npos)
                    << e.what() << "\n--- expected to contain ---\n"
                    << want;
            }
            continue;
        }
        ++results;
        const karton::Config cfg = karton::Config::load(opts);
        std::map<std::string, karton::Config::Section> want;
        for (const auto& [section, options] : row.at("result").as_object()) {
            for (const auto& [k, v] : options.as_object()) {
                want[section][k] = replace_all(v.as_string(), "<scratch>", s.dir.path().string());
            }
        }
        std::map<std::string, karton::Config::Section> got(cfg.sections().begin(),
                                                           cfg.sections().end());
        EXPECT_EQ(got, want);
        if (const json::Value* kw = row.find("redis_client_kwargs")) {
            check_redis_kwargs(cfg, kw->as_object(), id);
        }
        if (const json::Value* g = row.find("getters")) {
            check_getters(cfg, g->as_object(), id);
        }
    }
    EXPECT_EQ(results, 22);
    EXPECT_EQ(errors, 5);
}

TEST(Config, MissingRequiredFiles) {
    karton::Config::LoadOptions opts;
    opts.check_sections = false;
    opts.path = "/nonexistent/karton.ini";
    EXPECT_THROW(karton::Config::load(opts), karton::ConfigError);
    opts.path.reset();
    opts.env["KARTON_CONFIG_FILE"] = "/nonexistent/env.ini";
    try {
        karton::Config::load(opts);
        FAIL();
    } catch (const karton::ConfigError& e) {
        EXPECT_NE(
            std::string(e.what()).find("Configuration file not found in /nonexistent/env.ini"),
            std::string::npos);
    }
}

TEST(Config, DialectDetails) {
    const karton::Config c = karton::Config::parse_ini(
        "[DEFAULT]\nroot = /r\n\n[a]\npath = %(root)s/x\nSelf = %(PATH)s/y\nblank = first\n\n  "
        "after-blank\nindented;comment = v\n  # indented comment\n[empty]\n",
        "t.ini");
    EXPECT_EQ(c.get("a", "path"), "/r/x");
    EXPECT_EQ(c.get("a", "self"), "/r/x/y");
    EXPECT_EQ(c.get("a", "blank"), "first\n\nafter-blank");
    EXPECT_EQ(c.get("a", "indented;comment"), "v");
    EXPECT_EQ(c.get("empty", "root"), "/r");  // DEFAULT options are inherited everywhere
    // A section without options (and no DEFAULT) does not appear, as in the reference.
    EXPECT_FALSE(karton::Config::parse_ini("[x]\n").has_section("x"));
    EXPECT_EQ(c.origin("a", "path"), "t.ini");
    EXPECT_EQ(c.get_string("a", "nope", "fb"), "fb");
    EXPECT_EQ(c.get_int("a", "nope", 7), 7);

    const std::pair<const char*, const char*> bad[] = {
        {"[a]\nx = %(x)s\n", "InterpolationDepthError"},
        {"[a]\nx = %(nope)s\n", "InterpolationMissingOptionError"},
        {"[a]\nx = %(y\n", "bad interpolation variable reference"},
        {"[a]\n[a]\n", "DuplicateSectionError"},
        {"[a]\njust words\n", "ParsingError"},
        {"[a]\n= v\n", "ParsingError"},
    };
    for (const auto& [text, needle] : bad) {
        try {
            karton::Config::parse_ini(text, "t.ini");
            ADD_FAILURE() << "accepted " << text;
        } catch (const karton::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    }
}

TEST(Config, TypedParsingRules) {
    EXPECT_EQ(karton::parse_python_int(" -1_0 "), -10);
    EXPECT_EQ(karton::parse_python_int("007"), 7);
    EXPECT_FALSE(karton::parse_python_int("1__0"));
    EXPECT_FALSE(karton::parse_python_int("_1"));
    EXPECT_FALSE(karton::parse_python_int(""));
    EXPECT_FALSE(karton::parse_python_int("99999999999999999999"));
    EXPECT_FALSE(karton::parse_python_bool(""));
    EXPECT_EQ(karton::parse_python_bool("oN"), true);
    karton::Config c;
    c.set("s", "f", "2.5");
    c.set("s", "bad", "x");
    EXPECT_EQ(c.get_double("s", "f", 0), 2.5);
    EXPECT_THROW(c.get_double("s", "bad"), karton::ConfigError);
}

TEST(Config, S3AndRedisDerivation) {
    karton::Config c;
    c.set("s3", "bucket", "b");
    c.set("redis", "url", "redis://h:1/2");
    c.set("redis", "socket_timeout", "0");
    const karton::Environment env{{"AWS_ENDPOINT_URL", "http://aws:9000"},
                                  {"AWS_ACCESS_KEY_ID", "id"},
                                  {"AWS_SECRET_ACCESS_KEY", "secret"}};
    const karton::S3Config s3 = karton::s3_config(c, env);
    EXPECT_EQ(s3.address, "http://aws:9000");
    EXPECT_EQ(s3.access_key, "id");
    EXPECT_EQ(s3.secret_key, "secret");
    EXPECT_EQ(s3.bucket, "b");
    EXPECT_FALSE(s3.iam_auth);
    EXPECT_THROW(karton::s3_config(c, {}), karton::ConfigError);
    c.set("s3", "address", "http://cfg");
    c.set("s3", "iam_auth", "maybe");
    EXPECT_THROW(karton::s3_config(c, env), karton::ConfigError);
    const karton::RedisConfig rc = karton::redis_config(c);
    EXPECT_EQ(rc.url, "redis://h:1/2");
    EXPECT_FALSE(rc.socket_timeout);
    c.set("redis", "url", "");
    karton::Config d;
    d.set("redis", "host", "h");
    d.set("redis", "port", "99999");
    EXPECT_THROW(karton::redis_config(d), karton::ConfigError);
}

TEST(Config, HostileFileIsBounded) {
    util::TempDir dir("model-cfg-big");
    const fs::path p = dir.path() / "big.ini";
    util::write_file_atomic(p, "[a]\nx = " + std::string(17u << 20, 'a') + "\n");
    EXPECT_THROW(karton::Config::load_ini_file(p), karton::ConfigError);
    EXPECT_TRUE(
        karton::Config::load_ini_file(dir.path() / "missing.ini", false).sections().empty());
}
