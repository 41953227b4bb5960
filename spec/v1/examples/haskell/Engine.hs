-- | Engine.hs — RTT-Inside corridor state and the v1 reference update rule (seed §3.3.1, §8.1). Pure, no I/O.
module Engine
  ( CorridorState (..)
  , Sample (..)
  , makeInitialState
  , update
  , sampleFromState
  , runSimulation
  ) where

import Data.List (iterate')

-- | The corridor state advanced in resonance-time (the seed's record, with strict fields).
data CorridorState = CorridorState
  { t :: !Double
  , c :: !Double
  , d :: !Double
  , q :: !Double
  , r :: !Double
  , device :: String
  , scenario :: String
  , difficulty :: String
  }
  deriving (Eq, Show)

-- | One observation of the state, as written to session logs.
data Sample = Sample
  { sampleT, sampleC, sampleD, sampleQ, sampleR :: !Double }
  deriving (Eq, Show)

makeInitialState :: CorridorState
makeInitialState = CorridorState 0.0 0.10 1.0 0.5 0.0 "COMT" "COMT_LOCK_01" "Journeyman"

-- | One step: C += 0.01·dt, D *= 1 − 0.001·dt, Q and R unchanged, t += dt. GHC evaluates each Double operation
-- on its own in binary64 (no fused multiply-add).
update :: Double -> CorridorState -> CorridorState
update dt s =
  s { t = t s + dt
    , c = c s + 0.01 * dt
    , d = d s * (1 - 0.001 * dt)
    }

sampleFromState :: CorridorState -> Sample
sampleFromState s = Sample (t s) (c s) (d s) (q s) (r s)

-- | The initial sample plus one sample per step; t is accumulated, never recomputed as t0 + i·dt.
runSimulation :: Int -> Double -> CorridorState -> [Sample]
runSimulation steps dt = map sampleFromState . take (steps + 1) . iterate' (update dt)
