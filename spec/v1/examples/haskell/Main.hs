-- | Main.hs — file mode (default): run the reference vector and write rtt_hs_session.json.
-- Protocol mode (--protocol): one JSON case per line on stdin, one reply per line on stdout (flushed).
module Main (main) where

import qualified Data.ByteString.Lazy.Char8 as BL
import qualified Data.Text as T
import Data.Time.Clock (getCurrentTime)
import Data.Time.Format (defaultTimeLocale, formatTime)
import System.Environment (getArgs)
import System.IO (BufferMode (..), hFlush, hSetBinaryMode, hSetBuffering, stdin, stdout)

import Engine (CorridorState (..), makeInitialState, runSimulation)
import Logger (render, sessionLog)
import Runner (answerLine)

protocolMode :: IO ()
protocolMode = do
  hSetBinaryMode stdin True
  hSetBinaryMode stdout True
  hSetBuffering stdout (BlockBuffering Nothing)
  input <- BL.getContents
  mapM_ reply (filter (not . BL.all (`elem` (" \t\r" :: String))) (BL.lines input))
  where
    reply line = BL.putStr (render (answerLine line)) >> BL.putStr (BL.pack "\n") >> hFlush stdout

fileMode :: FilePath -> IO ()
fileMode path = do
  now <- getCurrentTime
  let s0 = makeInitialState
      session =
        [ (T.pack "session_id", T.pack "RTT-HS-TEST")
        , (T.pack "timestamp", T.pack (formatTime defaultTimeLocale "%Y-%m-%dT%H:%M:%SZ" now))
        , (T.pack "device", T.pack (device s0))
        , (T.pack "scenario", T.pack (scenario s0))
        , (T.pack "difficulty", T.pack (difficulty s0))
        ]
  BL.writeFile path (render (sessionLog session (runSimulation 3 0.1 s0)) <> BL.pack "\n")
  putStrLn ("wrote " <> path)

main :: IO ()
main = do
  args <- getArgs
  case args of
    _ | "--protocol" `elem` args -> protocolMode
    _ -> fileMode (outPath args)
  where
    outPath ("--out" : p : _) = p
    outPath (_ : rest) = outPath rest
    outPath [] = "rtt_hs_session.json"
