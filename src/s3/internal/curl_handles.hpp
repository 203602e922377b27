// s3/internal/curl_handles.hpp — one owner per libcurl C handle (house rule 6): a deleter per
// type and unique_ptr aliases. Private to the s3 library.
#pragma once

#include <curl/curl.h>

#include <memory>

namespace s3::internal {

struct CurlEasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using CurlPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

}  // namespace s3::internal
