using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RegistryKit.Cache;

/// <summary>
/// The on-disk form of a registry cache and the file operations around it: where it lives, how it is read without
/// trusting it, and how it is written so that no reader ever sees a torn file.
/// </summary>
internal static class RegistryCacheFile
{
    /// <summary>A cache file larger than this is not read (Dubbo #432: a 900 MB file of NULs).</summary>
    public const long MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>At most this many subscriptions are kept in one file.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>At most this many URLs are kept for one subscription.</summary>
    public const int MaxUrlsPerEntry = 10_000;

    private const int MaxFileNameStem = 80;

    /// <summary>The default folder: under the user's local application data, never the working directory (nacos-sdk-csharp #205).</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "RegistryKit", "cache");

    /// <summary>
    /// The cache file of one application and registry inside <paramref name="directory"/>. The name keeps only safe
    /// characters of the application and registry address (credentials left out), is capped in length, and ends in a
    /// hash of the full identity, so no address can make it escape the folder or collide with another.
    /// </summary>
    public static string PathFor(string directory, string application, ServiceUrl registryUrl)
    {
        // The registry's identity as the factory sees it, less credentials: volatile parameters (a timestamp) must not
        // give a restarted process a new file.
        string identity = string.Join(
            '\n',
            application,
            registryUrl.Protocol,
            registryUrl.Address,
            string.Join(',', registryUrl.BackupAddresses),
            registryUrl.Path,
            registryUrl.Group ?? string.Empty,
            registryUrl.Version ?? string.Empty);
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16];
        var stem = new StringBuilder(MaxFileNameStem);
        foreach (char c in string.Concat("registry-", application, "-", registryUrl.Protocol, "-", registryUrl.Address))
        {
            if (stem.Length == MaxFileNameStem)
            {
                break;
            }

            stem.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }

        string fullDirectory = Path.GetFullPath(directory);
        string path = Path.GetFullPath(Path.Combine(fullDirectory, $"{stem}-{hash}.cache.json"));

        // The name holds no separators or dots to climb with; this is the belt to those braces.
        if (!string.Equals(Path.GetDirectoryName(path), fullDirectory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The registry cache file name left its folder.");
        }

        return path;
    }

    /// <summary>Reads a cache file, keeping what is valid. Never throws for bad content; says what it skipped.</summary>
    public static CacheReadResult Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return new CacheReadResult([], 0, null);
        }

        if (info.Length > MaxFileBytes)
        {
            return new CacheReadResult([], 0, $"the file is {info.Length} bytes, over the limit of {MaxFileBytes}");
        }

        CacheDocument? document;
        try
        {
            using FileStream stream = new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete });
            document = JsonSerializer.Deserialize(stream, CacheJsonContext.Default.CacheDocument);
        }
        catch (JsonException exception)
        {
            return new CacheReadResult([], 0, $"the file is not valid JSON ({exception.Message})");
        }

        if (document?.Entries is null)
        {
            return new CacheReadResult([], 0, "the file holds no entries");
        }

        var entries = new Dictionary<string, List<ServiceUrl>>(StringComparer.Ordinal);
        long skipped = 0;
        foreach ((string key, List<string>? values) in document.Entries)
        {
            if (entries.Count >= MaxEntries || string.IsNullOrEmpty(key) || values is null)
            {
                skipped++;
                continue;
            }

            var urls = new List<ServiceUrl>(Math.Min(values.Count, MaxUrlsPerEntry));
            foreach (string? value in values)
            {
                if (urls.Count < MaxUrlsPerEntry && value is not null && ServiceUrl.TryParse(value, out ServiceUrl? url))
                {
                    urls.Add(url);
                }
                else
                {
                    skipped++;
                }
            }

            entries[key] = urls;
        }

        return new CacheReadResult(entries, skipped, null);
    }

    /// <summary>
    /// Writes the entries to a temporary file beside <paramref name="path"/>, flushes it to disk and renames it over
    /// the cache file, so the file is always either the old or the new content. Owner-only permissions on Unix.
    /// </summary>
    public static void WriteAtomically(string path, long version, IReadOnlyDictionary<string, List<string>> entries, Action<Stream>? beforeFlush = null)
    {
        string directory = Path.GetDirectoryName(path)!;
        CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, new CacheDocument { Version = version, Entries = entries.ToDictionary() }, CacheJsonContext.Default.CacheDocument);
                beforeFlush?.Invoke(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Creates the folder, owner-only on Unix.</summary>
    public static void CreateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}

/// <summary>What reading a cache file gave.</summary>
/// <param name="Entries">The valid entries.</param>
/// <param name="Skipped">Entries and URLs skipped because they were malformed or over a limit.</param>
/// <param name="Problem">Why the whole file was ignored, or <see langword="null"/>.</param>
internal sealed record CacheReadResult(Dictionary<string, List<ServiceUrl>> Entries, long Skipped, string? Problem);

/// <summary>The JSON document of a cache file.</summary>
internal sealed class CacheDocument
{
    [JsonPropertyName("version")]
    public long Version { get; set; }

    [JsonPropertyName("entries")]
    public Dictionary<string, List<string>>? Entries { get; set; }
}

[JsonSerializable(typeof(CacheDocument))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class CacheJsonContext : JsonSerializerContext;
