{-# LANGUAGE OverloadedStrings #-}

-- | Spec.hs — Hspec: the engine reproduces spec/v1/reference_samples.json within 1e-9 (seed §10), the logs have the
-- required shape, numbers round-trip, and the protocol answers skips and errors.
-- RTT_REFERENCE_SAMPLES names the file (default ../../reference_samples.json).
module Spec (main) where

import Data.Aeson (Object, Value (..), decode, eitherDecodeFileStrict')
import qualified Data.Aeson.Key as Key
import qualified Data.Aeson.KeyMap as KeyMap
import Data.Maybe (fromMaybe)
import Data.Scientific (toRealFloat)
import qualified Data.Vector as V
import System.Environment (lookupEnv)
import Test.Hspec

import Engine
import Logger (Segment (..), render, segmentedLog, sessionLog)
import Runner (answerLine)

main :: IO ()
main = hspec spec

field :: Object -> String -> Double
field o k = case KeyMap.lookup (Key.fromString k) o of
  Just (Number n) -> toRealFloat n
  other -> error ("no number " <> k <> ": " <> show other)

spec :: Spec
spec = do
  describe "engine" $ do
    it "matches reference_samples.json within 1e-9" $ do
      path <- fromMaybe "../../reference_samples.json" <$> lookupEnv "RTT_REFERENCE_SAMPLES"
      Right reference <- eitherDecodeFileStrict' path :: IO (Either String [Object])
      let got = runSimulation 3 0.1 makeInitialState
      length got `shouldBe` length reference
      sequence_
        [ abs (actual s - field want k) `shouldSatisfy` (<= 1e-9)
        | (s, want) <- zip got reference
        , (k, actual) <- [("t", sampleT), ("C", sampleC), ("D", sampleD), ("Q", sampleQ), ("R", sampleR)]
        ]

    it "keeps Q, R and the meta fields" $ do
      let s = update 0.1 makeInitialState
      (q s, r s, device s) `shouldBe` (0.5, 0.0, "COMT")

  describe "logger" $ do
    it "writes a v1 log with the required members whose numbers round-trip exactly" $ do
      let samples = runSimulation 2 0.1 makeInitialState
          session = [("session_id", "x"), ("timestamp", "2026-01-06T00:00:00Z"), ("device", "CO\"MT"), ("scenario", "S"), ("difficulty", "D")]
          Just (Object logObj) = decode (render (sessionLog session samples))
      mapM_ (\k -> KeyMap.member k logObj `shouldBe` True)
        ["session_id", "timestamp", "device", "scenario", "difficulty", "samples", "anomalies", "scores"]
      KeyMap.lookup "device" logObj `shouldBe` Just (String "CO\"MT")
      case KeyMap.lookup "samples" logObj of
        Just (Array xs) -> do
          V.length xs `shouldBe` 3
          let Object s2 = xs V.! 2
          field s2 "D" `shouldBe` sampleD (samples !! 2)
        other -> expectationFailure (show other)

    it "writes a v2 log with its segments in order" $ do
      let Just (Object logObj) = decode (render (segmentedLog [("session_id", "x")]
            [ Segment "seg-1" "warmup" (runSimulation 1 0.1 makeInitialState)
            , Segment "seg-2" "main" (runSimulation 0 0.1 makeInitialState) ]))
      KeyMap.lookup "spec_version" logObj `shouldBe` Just (String "v2")
      case KeyMap.lookup "segments" logObj of
        Just (Array gs) -> map (\(Object g) -> KeyMap.lookup "segment_id" g) (V.toList gs)
          `shouldBe` [Just (String "seg-1"), Just (String "seg-2")]
        other -> expectationFailure (show other)

  describe "protocol" $ do
    it "skips an unknown spec_version" $
      decode (render (answerLine "{\"id\":\"a\",\"spec_version\":\"v9\",\"session\":{}}"))
        `shouldSatisfy` \v -> case v of
          Just (Object o) -> KeyMap.member "skipped" o && KeyMap.lookup "id" o == Just (String "a")
          _ -> False

    it "answers errored for bad JSON and bad steps" $ do
      let errored line = case decode (render (answerLine line)) of
            Just (Object o) -> KeyMap.member "errored" o
            _ -> False
      errored "not json" `shouldBe` True
      errored "{\"id\":\"c\",\"spec_version\":\"v1\",\"session\":{},\"initial_state\":{\"t\":0,\"C\":0,\"D\":1,\"Q\":0,\"R\":0},\"dt\":0.1,\"steps\":-1}"
        `shouldBe` True
