using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using RegistryKit.Diagnostics;
using RegistryKit.Internal;

namespace RegistryKit.Cache;

/// <summary>
/// What subscribers were last told, per subscription, kept on disk so they can be served while the registry is down
/// (Dubbo's registry cache file, with its failures fixed).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Loaded once at creation; a corrupt, truncated, huge or hostile file is logged and ignored, never thrown.</item>
/// <item>Saved off the caller's path by one writer that coalesces changes: each save writes the newest state, so an
/// older state never overwrites a newer one.</item>
/// <item>Each save takes a lock file beside the cache (processes sharing the folder neither corrupt nor block each
/// other: a busy lock is retried a few times, then the save waits for the next change), merges in what another process
/// saved for other subscriptions, and replaces the file atomically.</item>
/// <item>Failures are logged and retried a bounded number of times (Dubbo #3746: its save loop burned CPU); they
/// never fail a registry operation.</item>
/// <item>URLs are stored without credentials.</item>
/// </list>
/// </remarks>
internal sealed partial class RegistryCacheStore : IAsyncDisposable
{
    /// <summary>Attempts per save (Dubbo's is 3).</summary>
    internal const int SaveAttempts = 3;

    /// <summary>Pause between attempts (Dubbo's is 500 ms).</summary>
    internal static readonly TimeSpan SaveRetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<string>> _entries = new(StringComparer.Ordinal);

    // Keys this process wrote itself. Everything else on disk belongs to another process (or to this one's previous
    // life) and is taken from disk at each save, so a newer save by another process is never overwritten with what
    // was loaded at start.
    private readonly HashSet<string> _ownKeys = new(StringComparer.Ordinal);
    private readonly Channel<bool> _changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Task _writer;
    private readonly CancellationTokenSource _stopping = new();
    private long _version;
    private long _savedVersion;
    private readonly RegistryTelemetry? _telemetry;
    private long _saveFailures;

    public RegistryCacheStore(string path, TimeProvider timeProvider, ILogger logger, RegistryTelemetry? telemetry = null)
    {
        _telemetry = telemetry;
        FilePath = path;
        _timeProvider = timeProvider;
        _logger = logger;
        Load();
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Gets the cache file's path.</summary>
    public string FilePath { get; }

    /// <summary>Gets the entries and URLs skipped when the file was loaded.</summary>
    public long SkippedOnLoad { get; private set; }

    /// <summary>Gets the saves that failed after every attempt.</summary>
    public long SaveFailures => Interlocked.Read(ref _saveFailures);

    /// <summary>Gets the newest version written to disk.</summary>
    public long SavedVersion => Interlocked.Read(ref _savedVersion);

    /// <summary>Gets the newest version of the in-memory state.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>The key of a subscription in the file: its URL without credentials or volatile parameters.</summary>
    public static string KeyOf(ServiceUrl subscription) =>
        Sanitize(subscription).WithoutParameters(ServiceUrlKeys.Timestamp, "pid").ToString();

    /// <summary>Gets what was last saved for the subscription, or <see langword="null"/>.</summary>
    public IReadOnlyList<ServiceUrl>? Get(ServiceUrl subscription)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(KeyOf(subscription), out List<string>? values))
            {
                return null;
            }

            var urls = new List<ServiceUrl>(values.Count);
            foreach (string value in values)
            {
                if (ServiceUrl.TryParse(value, out ServiceUrl? url))
                {
                    urls.Add(url);
                }
            }

            return urls;
        }
    }

    /// <summary>Records what the subscription was last told and schedules a save. Returns at once.</summary>
    public void Put(ServiceUrl subscription, IEnumerable<ServiceUrl> urls)
    {
        // Kept to what a load reads back: a list of 100,000 providers written whole made a file over the size limit,
        // which the next start then ignored entirely, every other subscription's entries with it.
        List<string> values = [.. urls.Take(RegistryCacheFile.MaxUrlsPerEntry).Select(url => Sanitize(url).ToFullString())];
        lock (_lock)
        {
            string key = KeyOf(subscription);
            if (_entries.TryGetValue(key, out List<string>? existing) && existing.SequenceEqual(values))
            {
                return;
            }

            if (!_entries.ContainsKey(key) && _entries.Count >= RegistryCacheFile.MaxEntries)
            {
                return;
            }

            _entries[key] = values;
            _ownKeys.Add(key);
            Interlocked.Increment(ref _version);
        }

        _changed.Writer.TryWrite(true);
    }

    /// <summary>Stops the writer, then makes one last attempt (no retry pauses, so shutdown stays bounded) to save what is pending.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "The last save is best effort; a failure is logged.")]
    public async ValueTask DisposeAsync()
    {
        if (!_changed.Writer.TryComplete())
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _writer.ConfigureAwait(false);
        _stopping.Dispose();

        long version = Version;
        if (version > SavedVersion)
        {
            try
            {
                SaveUnderLock(version, Snapshot());
                Interlocked.Exchange(ref _savedVersion, version);
                _telemetry?.RecordCacheWrite(succeeded: true);
            }
            catch (Exception exception)
            {
                Interlocked.Increment(ref _saveFailures);
                _telemetry?.RecordCacheWrite(succeeded: false);
                LogSaveFailed(_logger, FilePath, 1, exception);
            }
        }
    }

    private static ServiceUrl Sanitize(ServiceUrl url)
    {
        ServiceUrl clean = url.WithoutCredentials();
        string[] sensitive = [.. clean.Parameters.Keys.Where(Redaction.IsSensitiveName)];
        return sensitive.Length == 0 ? clean : clean.WithoutParameters(sensitive);
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A cache that cannot be read is ignored, never fatal.")]
    private void Load()
    {
        try
        {
            CacheReadResult result = RegistryCacheFile.Read(FilePath);
            if (result.Problem is not null)
            {
                LogIgnored(_logger, FilePath, result.Problem);
            }

            SkippedOnLoad = result.Skipped;
            lock (_lock)
            {
                foreach ((string key, List<ServiceUrl> urls) in result.Entries)
                {
                    _entries[key] = [.. urls.Select(url => url.ToFullString())];
                }
            }
        }
        catch (Exception exception)
        {
            LogUnreadable(_logger, FilePath, exception);
        }
    }

    private async Task WriteLoopAsync()
    {
        CancellationToken token = _stopping.Token;
        try
        {
            while (await _changed.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                _changed.Reader.TryRead(out _);
                await SaveAsync(token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed save is logged and retried a bounded number of times; it must never escape.")]
    private async Task SaveAsync(CancellationToken token)
    {
        for (int attempt = 1; attempt <= SaveAttempts; attempt++)
        {
            long version;
            Dictionary<string, List<string>> snapshot;
            lock (_lock)
            {
                version = Interlocked.Read(ref _version);
                if (version <= Interlocked.Read(ref _savedVersion))
                {
                    return;
                }

            }

            snapshot = Snapshot();

            try
            {
                SaveUnderLock(version, snapshot);
                Interlocked.Exchange(ref _savedVersion, version);
                _telemetry?.RecordCacheWrite(succeeded: true);
                return;
            }
            catch (Exception exception) when (attempt < SaveAttempts)
            {
                LogSaveRetry(_logger, FilePath, attempt, exception);
                await Task.Delay(SaveRetryDelay, _timeProvider, token).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Interlocked.Increment(ref _saveFailures);
                _telemetry?.RecordCacheWrite(succeeded: false);
                LogSaveFailed(_logger, FilePath, SaveAttempts, exception);
            }
        }
    }

    /// <summary>The entries this process wrote; the rest comes from disk when saving.</summary>
    private Dictionary<string, List<string>> Snapshot()
    {
        lock (_lock)
        {
            return _entries.Where(pair => _ownKeys.Contains(pair.Key)).ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
        }
    }

    private void SaveUnderLock(long version, Dictionary<string, List<string>> snapshot)
    {
        RegistryCacheFile.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        var lockOptions = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            lockOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using FileStream fileLock = AcquireLock(FilePath + ".lock", lockOptions);

        // Keep what other processes saved for subscriptions this one has not written itself.
        CacheReadResult onDisk = RegistryCacheFile.Read(FilePath);
        foreach ((string key, List<ServiceUrl> urls) in onDisk.Entries)
        {
            if (!snapshot.ContainsKey(key) && snapshot.Count < RegistryCacheFile.MaxEntries)
            {
                snapshot[key] = [.. urls.Select(url => url.ToFullString())];
            }
        }

        RegistryCacheFile.WriteAtomically(FilePath, version, snapshot);
    }

    /// <summary>
    /// Takes the lock file. FileShare.None is an exclusive lock (flock on Unix); a save holds it for milliseconds, so
    /// a busy lock is tried again for a short, bounded spin before the attempt fails (and is retried later).
    /// </summary>
    private static FileStream AcquireLock(string lockPath, FileStreamOptions options)
    {
        var spinner = default(SpinWait);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockPath, options);
            }
            catch (IOException) when (attempt < 200 && File.Exists(lockPath))
            {
                spinner.SpinOnce(sleep1Threshold: 20);
            }
        }
    }

    [LoggerMessage(EventId = 2200, EventName = "CacheFileIgnored", Level = LogLevel.Warning, Message = "Ignored the registry cache file '{Path}': {Problem}.")]
    private static partial void LogIgnored(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 2201, EventName = "CacheFileUnreadable", Level = LogLevel.Warning, Message = "Could not read the registry cache file '{Path}'; starting without it.")]
    private static partial void LogUnreadable(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 2202, EventName = "CacheSaveRetry", Level = LogLevel.Debug, Message = "Saving the registry cache file '{Path}' failed (attempt {Attempt}); trying again shortly.")]
    private static partial void LogSaveRetry(ILogger logger, string path, int attempt, Exception exception);

    [LoggerMessage(EventId = 2203, EventName = "CacheSaveFailed", Level = LogLevel.Warning, Message = "Could not save the registry cache file '{Path}' after {Attempts} attempts; the next change tries again.")]
    private static partial void LogSaveFailed(ILogger logger, string path, int attempts, Exception exception);
}
