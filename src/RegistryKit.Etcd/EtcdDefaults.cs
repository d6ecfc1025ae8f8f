namespace RegistryKit.Etcd;

/// <summary>The defaults of <see cref="EtcdOptions"/> and the transport's fixed limits, in one place a test pins.</summary>
internal static class EtcdDefaults
{
    /// <summary>The key prefix every registration lives under.</summary>
    public const string Root = "/registrykit";

    /// <summary>The port of an endpoint that names none (etcd's client port).</summary>
    public const int Port = 2379;

    /// <summary>The default address <c>UseEtcd()</c> gives a registry that has none.</summary>
    public const string Address = "etcd://127.0.0.1:2379";

    /// <summary>How long one unary call may take.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>etcd grants no lease shorter than 2 s (0 or 1 become 2).</summary>
    public static readonly TimeSpan MinSessionTtl = TimeSpan.FromSeconds(2);

    /// <summary>The first pause before a dropped watch reconnects; it doubles per failure up to <see cref="WatchMaxRetryDelay"/>.</summary>
    public static readonly TimeSpan WatchFirstRetryDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause between two reconnects of a watch.</summary>
    public static readonly TimeSpan WatchMaxRetryDelay = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How many reconnects in a row may fail before the watch is reported lost (about 15 s with the delays above): then
    /// the engine subscribes again on its own retry schedule.
    /// </summary>
    public const int WatchMaxConsecutiveFailures = 8;

    /// <summary>
    /// The longest line a watch stream may send (in characters): far above what etcd sends (its requests are capped at
    /// 1.5 MiB), low enough that a hostile or broken stream cannot exhaust memory.
    /// </summary>
    public const int MaxWatchLineChars = 16 * 1024 * 1024;

    /// <summary>
    /// How often an open watch checks that its member still answers (one <c>maintenance/status</c> call): a member that
    /// hangs or is cut off keeps the stream open but silent, and only a call that times out tells.
    /// </summary>
    public static readonly TimeSpan WatchProbeInterval = TimeSpan.FromSeconds(5);

    /// <summary>How much of a non-JSON error body an exception message quotes.</summary>
    public const int MaxQuotedBody = 200;
}
