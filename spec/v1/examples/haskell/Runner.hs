{-# LANGUAGE OverloadedStrings #-}

-- | Runner.hs — one conformance case (spec/v1/conformance_protocol.md) → one reply, with aeson's parsers.
module Runner
  ( answer
  , answerLine
  ) where

import Data.Aeson (Encoding, Value (..), eitherDecode', encode, withObject, withScientific, (.:), (.:?))
import qualified Data.Aeson.KeyMap as KeyMap
import qualified Data.Aeson.Key as Key
import Data.Aeson.Types (Object, Parser, parseEither)
import qualified Data.ByteString.Lazy as BL
import Data.Scientific (toBoundedInteger, toRealFloat)
import qualified Data.Text as T
import Data.Text (Text)
import qualified Data.Text.Encoding as TE

import Engine (CorridorState (..), Sample (..), runSimulation)
import Logger (Segment (..), segmentedLog, sessionLog, status)

-- | A number member as a Double (aeson's own Double parser would also take null, as NaN).
number :: Object -> Text -> Parser Double
number o key = o .: Key.fromText key >>= withScientific (T.unpack key) (pure . toRealFloat)

steps :: Object -> Parser Int
steps o = o .: "steps" >>= withScientific "steps" (\n -> case toBoundedInteger n of
  Just k | k >= 0 -> pure k
  _ -> fail "steps must be an integer >= 0")

-- | One {initial_state, dt, steps} object → its samples.
run :: Object -> Parser [Sample]
run o = do
  s0 <- o .: "initial_state"
  initial <- withObject "initial_state" (\s ->
    CorridorState <$> number s "t" <*> number s "C" <*> number s "D" <*> number s "Q" <*> number s "R"
      <*> pure "" <*> pure "" <*> pure "") s0
  samples <- runSimulation <$> steps o <*> number o "dt" <*> pure initial
  -- JSON has no NaN or Infinity (aeson would write them as strings): such a run is an error, not a log.
  if all finite samples then pure samples else fail "a sample is not finite (NaN or Infinity)"
  where
    finite (Sample st sc sd sq sr) = not (any (\x -> isNaN x || isInfinite x) [st, sc, sd, sq, sr])

segment :: Value -> Parser Segment
segment = withObject "segment" $ \g -> Segment <$> g .: "segment_id" <*> g .: "label" <*> run g

-- | A case → a v1 log, a v2 log or a skip; a Left when the case is malformed.
answer :: Object -> Either String Encoding
answer o = flip parseEither o $ \_ -> do
  session <- o .: "session" >>= withObject "session" (\s -> pure [(Key.toText k, v) | (k, String v) <- KeyMap.toList s])
  version <- o .:? "spec_version"
  case version of
    Just (String "v1") -> sessionLog session <$> run o
    Just (String "v2") -> segmentedLog session <$> (o .: "segments" >>= mapM segment)
    _ -> pure (status (caseId o) "skipped" ("spec_version " <> maybe "(none)" (TE.decodeUtf8 . BL.toStrict . encode) version <> " not supported"))

caseId :: Object -> Maybe Text
caseId o = case KeyMap.lookup "id" o of
  Just (String s) -> Just s
  _ -> Nothing

-- | One line of the protocol → one reply (never an exception for bad input).
answerLine :: BL.ByteString -> Encoding
answerLine line = case eitherDecode' line of
  Left err -> status Nothing "errored" (T.pack err)
  Right (Object o) -> either (status (caseId o) "errored" . T.pack) id (answer o)
  Right _ -> status Nothing "errored" "a case must be a JSON object"
