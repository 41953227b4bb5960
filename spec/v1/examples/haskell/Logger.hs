{-# LANGUAGE OverloadedStrings #-}

-- | Logger.hs — RTT-Inside session logs as aeson Encodings: v1 with samples, v2 with segments. Members are written
-- in the seed's order (an aeson Value would sort them), and a Double as its shortest round-trip decimal.
-- The engine knows nothing of JSON: samples are encoded here by a function, not by an (orphan) ToJSON instance.
module Logger
  ( Session
  , Segment (..)
  , sessionLog
  , segmentedLog
  , status
  , render
  ) where

import Data.Aeson (Encoding, Series, pairs, (.=))
import Data.Aeson.Encoding (emptyArray_, encodingToLazyByteString, list, pair)
import qualified Data.Aeson.Key as Key
import qualified Data.ByteString.Lazy as BL
import Data.Text (Text)

import Engine (Sample (..))

-- | The session's string members, copied verbatim (in order) to the root of the log.
type Session = [(Text, Text)]

data Segment = Segment
  { segmentId :: Text
  , label :: Text
  , segmentSamples :: [Sample]
  }

-- | A v1 log: the session members, samples, anomalies (none), scores (zeros).
sessionLog :: Session -> [Sample] -> Encoding
sessionLog session samples = pairs (members session <> pair "samples" (list sample samples) <> tailMembers)

-- | A v2 log: spec_version "v2", the session members, segments.
segmentedLog :: Session -> [Segment] -> Encoding
segmentedLog session segments =
  pairs ("spec_version" .= ("v2" :: Text) <> members session <> pair "segments" (list segment segments) <> tailMembers)

-- | {"id": …, "errored"|"skipped": message}; a null id when the case had none.
status :: Maybe Text -> Text -> Text -> Encoding
status caseId key message = pairs ("id" .= caseId <> Key.fromText key .= message)

render :: Encoding -> BL.ByteString
render = encodingToLazyByteString

sample :: Sample -> Encoding
sample (Sample t c d q r) = pairs ("t" .= t <> "C" .= c <> "D" .= d <> "Q" .= q <> "R" .= r)

segment :: Segment -> Encoding
segment g = pairs ("segment_id" .= segmentId g <> "label" .= label g <> pair "samples" (list sample (segmentSamples g)))

members :: Session -> Series
members = foldMap (\(k, v) -> Key.fromText k .= v)

tailMembers :: Series
tailMembers =
  pair "anomalies" emptyArray_
    <> pair "scores" (pairs ("stability" .= zero <> "response" .= zero <> "quality" .= zero <> "final" .= zero))
  where
    zero = 0 :: Int
