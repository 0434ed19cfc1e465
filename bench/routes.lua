-- wrk script: each request takes the next of the content routes in turn.
local slug = "/v1/articles/deep-tissue-massage-for-back-pain"
local paths = {
  slug,
  slug .. "/sections",
  slug .. "/benefits",
  slug .. "/benefits/improves-posture",
  slug .. "/precautions",
  slug .. "/faqs/what-is-deep-tissue-massage",
  "/v1/articles",
  "/",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], { ["Accept-Encoding"] = "br, gzip" })
end
