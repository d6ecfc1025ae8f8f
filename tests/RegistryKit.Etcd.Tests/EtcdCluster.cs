using System.Diagnostics;

namespace RegistryKit.Etcd.Tests;

/// <summary>
/// A throwaway three-member etcd cluster on loopback, each member with its own temporary data directory, for the
/// tests that kill a member. Members are stopped by PID.
/// </summary>
internal sealed class EtcdCluster : IAsyncDisposable
{
    private readonly Member[] _members;

    private EtcdCluster(Member[] members)
    {
        _members = members;
    }

    /// <summary>Gets the client ports, member 0 first.</summary>
    public IReadOnlyList<int> ClientPorts => [.. _members.Select(m => m.ClientPort)];

    /// <summary>The address of the cluster: member 0, with the others as backups.</summary>
    public string Address(string root) =>
        $"etcd://127.0.0.1:{_members[0].ClientPort}/{root}?backup={string.Join(',', _members.Skip(1).Select(m => $"127.0.0.1:{m.ClientPort}"))}";

    /// <summary>Starts three members and waits until each reports healthy (the cluster has a leader).</summary>
    public static async Task<EtcdCluster> StartAsync()
    {
        string executable = EtcdServer.FindExecutableOrSkip();
        string token = "registrykit-" + Guid.NewGuid().ToString("N");
        Member[] members =
        [
            .. Enumerable.Range(0, 3).Select(i => new Member(
                $"m{i}",
                EtcdServer.FreePort(),
                EtcdServer.FreePort(),
                Path.Combine(Path.GetTempPath(), $"registrykit-etcd-cluster-{token}-m{i}"))),
        ];
        string initialCluster = string.Join(',', members.Select(m => $"{m.Name}=http://127.0.0.1:{m.PeerPort}"));
        var cluster = new EtcdCluster(members);
        try
        {
            foreach (Member member in members)
            {
                member.Start(executable, initialCluster, token);
            }

            foreach (Member member in members)
            {
                await member.WaitHealthyAsync();
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Kills member <paramref name="index"/> at once (SIGKILL), as a crashed machine.</summary>
    public void Kill(int index) => _members[index].Kill();

    /// <summary>Freezes (<c>STOP</c>) or thaws (<c>CONT</c>) member <paramref name="index"/>: a hung machine, or a partition that sends no reset.</summary>
    public void Signal(int index, string signal) => _members[index].Signal(signal);

    public async ValueTask DisposeAsync()
    {
        foreach (Member member in _members)
        {
            member.Kill();
            try
            {
                Directory.Delete(member.DataDirectory, recursive: true);
                File.Delete(member.DataDirectory + ".log");
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }

        await Task.CompletedTask;
    }

    private sealed class Member(string name, int clientPort, int peerPort, string dataDirectory)
    {
        private Process? _process;

        public string Name { get; } = name;

        public int ClientPort { get; } = clientPort;

        public int PeerPort { get; } = peerPort;

        public string DataDirectory { get; } = dataDirectory;

        public void Start(string executable, string initialCluster, string token)
        {
            string client = $"http://127.0.0.1:{ClientPort}";
            string peer = $"http://127.0.0.1:{PeerPort}";
            var info = new ProcessStartInfo(executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in new[]
            {
                "--name", Name, "--data-dir", DataDirectory,
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--initial-cluster-token", token,
                "--logger=zap", "--log-outputs=" + DataDirectory + ".log",
            })
            {
                info.ArgumentList.Add(argument);
            }

            if (System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64)
            {
                info.Environment["ETCD_UNSUPPORTED_ARCH"] = "arm64";
            }

            _process = Process.Start(info) ?? throw new InvalidOperationException("etcd did not start.");
            _process.OutputDataReceived += static (_, _) => { };
            _process.ErrorDataReceived += static (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public async Task WaitHealthyAsync()
        {
            if (!await EtcdServer.PollHealthyAsync(new SocketsHttpHandler(), new Uri($"http://127.0.0.1:{ClientPort}/"), () => _process is { HasExited: false }, TimeSpan.FromSeconds(30)))
            {
                string log = File.Exists(DataDirectory + ".log") ? File.ReadAllText(DataDirectory + ".log") : "(no log)";
                Assert.Fail($"etcd member {Name} did not become healthy within 30 s. Its log:\n{log[Math.Max(0, log.Length - 3000)..]}");
            }
        }

        public void Signal(string signal)
        {
            using Process kill = Process.Start("kill", ["-" + signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            kill.WaitForExit();
        }

        public void Kill()
        {
            if (_process is { } process)
            {
                _process = null;
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit();
                }

                process.Dispose();
            }
        }
    }
}
