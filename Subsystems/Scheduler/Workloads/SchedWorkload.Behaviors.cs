using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Workloads;

/// <summary>The behaviours' steps: sleep/wake, periodic releases and deadlines, jobs, rt-app phases.</summary>
public sealed partial class SchedWorkload
{
    /// <summary>A sleep ended: sleep_wake gets its next run; a phases task takes its next step.</summary>
    private void Wake(int task)
    {
        if (_wt[task].ExitedAt >= 0)
        {
            return;
        }
        var g = _groups[_wt[task].GroupOf];
        var b = g.Spec.Behavior;
        if (g.Kind == BehaviorKind.Phases)
        {
            Advance(task, running: false);
            return;
        }
        _kernel.SetWork(task, b.Run.SampleNs(ref _wt[task].Random));
        _kernel.WakeUp(task);
    }

    /// <summary>A periodic task's release (its first, at fork, or a later one).</summary>
    private void StartJob(int task, TaskBehavior b)
    {
        long now = _sim.Now.Nanoseconds;
        _periods[task]++;
        _jobActive[task] = true;
        int seq = ++_jobSeq[task];
        long deadline = (b.Deadline ?? b.Period).Nanoseconds;
        At(now + deadline, KindDeadline, (long)task | ((long)seq << 32));
        At(now + b.Period.Nanoseconds, KindRelease, task);
    }

    private void Release(int task)
    {
        if (_wt[task].ExitedAt >= 0 || _sim.Now.Nanoseconds >= _endNs)
        {
            // A release at the end of the run would be a period the run does not contain.
            return;
        }
        var b = _groups[_wt[task].GroupOf].Spec.Behavior;
        if (_jobActive[task])
        {
            // Still busy with an earlier job: this release is missed, not queued behind it.
            _periods[task]++;
            _misses[task]++;
            At(_sim.Now.Nanoseconds + b.Period.Nanoseconds, KindRelease, task);
            return;
        }
        StartJob(task, b);
        _kernel.SetWork(task, Math.Max(1, b.Runtime.Nanoseconds));
        _kernel.WakeUp(task);
    }

    private void Deadline(int task, int seq)
    {
        if (_wt[task].ExitedAt < 0 && _jobActive[task] && _jobSeq[task] == seq)
        {
            _misses[task]++; // not done by its deadline; it goes on with the job
        }
    }

    private void JobDone(int task)
    {
        var g = _groups[_wt[task].GroupOf];
        long now = _sim.Now.Nanoseconds;
        g.Completed++;
        g.Responses.Record(now - _forkedAt[task]);
        _wt[task].ExitedAt = now;
        _kernel.Exit(task);
    }

    /// <summary>
    /// Takes a phases task's next steps: a run gives it work (waking it if it slept); a sleep or timer blocks it
    /// (or keeps it asleep) until then; after the last step of the last loop it exits.
    /// </summary>
    private void Advance(int task, bool running)
    {
        var b = _groups[_wt[task].GroupOf].Spec.Behavior;
        long now = _sim.Now.Nanoseconds;
        for (int guard = 0; guard < 1 << 16; guard++)
        {
            if (!NextStep(task, b, out var step))
            {
                EndTask(task);
                return;
            }
            long d = step.Duration.Nanoseconds;
            long wakeAt;
            switch (step.Kind)
            {
                case PhaseStepKind.Run:
                    if (d <= 0)
                    {
                        continue;
                    }
                    _kernel.SetWork(task, d);
                    if (!running)
                    {
                        _kernel.WakeUp(task);
                    }
                    return;
                case PhaseStepKind.Sleep:
                    if (d <= 0)
                    {
                        continue;
                    }
                    wakeAt = now + d;
                    break;
                default:
                    // rt-app timer: the next release one period after the last; a late task does not sleep and
                    // restarts the timer from now.
                    long next = _timerLast[task] + d;
                    if (next <= now)
                    {
                        _timerLast[task] = now;
                        continue;
                    }
                    _timerLast[task] = next;
                    wakeAt = next;
                    break;
            }
            if (running)
            {
                _kernel.Block(task);
            }
            At(wakeAt, KindWake, task);
            return;
        }
        throw new Core.Workloads.ScenarioRunException(
            $"task group {_groups[_wt[task].GroupOf].Spec.Name}: its phases take no time (every step is empty)", _groups[_wt[task].GroupOf].Spec.Location);
    }

    /// <summary>The step after the last one taken, following the phase loops and the list's loop.</summary>
    private bool NextStep(int task, TaskBehavior b, out PhaseStep step)
    {
        var phases = b.Phases;
        step = default;
        if (phases.Count == 0)
        {
            return false;
        }
        for (int guard = 0; guard <= phases.Count; guard++)
        {
            var phase = phases[_phase[task]];
            if (_step[task] < phase.Steps.Count && (phase.Loop < 0 || _phaseIter[task] < phase.Loop))
            {
                step = phase.Steps[_step[task]++];
                return true;
            }
            _step[task] = 0;
            if (phase.Loop >= 0 && ++_phaseIter[task] < phase.Loop && phase.Steps.Count > 0)
            {
                continue;
            }
            if (phase.Loop < 0 && phase.Steps.Count > 0)
            {
                continue; // loops for ever
            }
            _phaseIter[task] = 0;
            if (++_phase[task] == phases.Count)
            {
                _phase[task] = 0;
                if (b.PhasesLoop >= 0 && ++_listIter[task] >= b.PhasesLoop)
                {
                    return false;
                }
            }
        }
        return false;
    }
}
