-- wrk script: searches the response cache cannot answer. Each request asks
-- for two words drawn at random from the file named by $WORDS (the source
-- article's words, one per line) at a random offset, so that nearly every
-- request is a URL not asked before.
local words = {}
for word in io.lines(os.getenv("WORDS")) do
  words[#words + 1] = word
end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))

request = function()
  local a = words[math.random(#words)]
  local b = words[math.random(#words)]
  local offset = math.random(0, 20)
  return wrk.format("GET", "/v1/search?q=" .. a .. "+" .. b .. "&offset=" .. offset)
end
