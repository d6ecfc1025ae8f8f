using RegistryKit.Masters;

namespace RegistryKit.Samples.CustomTransport.Worker;

/// <summary>What the worker does when <see cref="MultiMasterRegistration"/> registers, is refused or gives up: it tells the story's output, and counts.</summary>
internal sealed class WorkerListener : IMultiMasterListener
{
    private readonly Action<string> _say;
    private int _registrations;
    private int _duplicates;

    public WorkerListener(Action<string> say)
    {
        _say = say;
    }

    /// <summary>Gets how many times the worker registered (re-registrations included).</summary>
    public int Registrations => Volatile.Read(ref _registrations);

    /// <summary>Gets how many of those the master answered as duplicates.</summary>
    public int Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Gets whether a master refused the worker, or registration gave up; the program then exits 1.</summary>
    public bool Failed { get; private set; }

    public ValueTask OnRegisteredAsync(string masterAddress, bool duplicate, CancellationToken cancellationToken)
    {
        int count = Interlocked.Increment(ref _registrations);
        if (duplicate)
        {
            Interlocked.Increment(ref _duplicates);
        }

        _say($"registered with master {masterAddress}{(duplicate ? " (it already knew this worker)" : "")}, registration #{count}");
        return ValueTask.CompletedTask;
    }

    public void OnRefused(string masterAddress)
    {
        Failed = true;
        _say($"master {masterAddress} refused this worker");
    }

    public void OnGaveUp(int attempts)
    {
        Failed = true;
        _say($"gave up registering after {attempts} attempts");
    }
}
