/* engine.h — RTT-Inside corridor state and the v1 reference update rule (seed §2, §8.1). */
#ifndef RTT_ENGINE_H
#define RTT_ENGINE_H

#include <stddef.h>

typedef struct {
    double t, C, D, Q, R;
    const char *device, *scenario, *difficulty;
} CorridorState;

/* One observation of the state, as written to session logs. */
typedef struct {
    double t, C, D, Q, R;
} Sample;

CorridorState make_initial_state(void);

/* One step in resonance-time: C += 0.01*dt, D *= 1 - 0.001*dt, Q and R unchanged, t += dt. */
CorridorState update(CorridorState s, double dt);

Sample sample_from_state(CorridorState s);

/* Writes the initial sample plus one per step into out[0..steps]; out must hold steps + 1 samples. */
void run_simulation(size_t steps, double dt, CorridorState initial, Sample *out);

#endif
