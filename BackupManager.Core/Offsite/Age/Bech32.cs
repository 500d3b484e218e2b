namespace BackupManager.Core.Offsite.Age;

/// <summary>
/// Bech32 (BIP 173) as age uses it for keys: an encoding with a checksum, not a cryptographic primitive. Without
/// BIP 173's 90-character limit (age's own rule), and all-lowercase or all-uppercase only.
/// </summary>
internal static class Bech32
{
    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private static readonly uint[] Generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

    public static string Encode(string hrp, ReadOnlySpan<byte> data)
    {
        var values = ConvertBits(data, 8, 5, pad: true) ?? throw new FormatException("cannot convert the data");
        var lowerHrp = hrp.ToLowerInvariant();
        var checksum = Checksum(lowerHrp, values);
        var chars = new System.Text.StringBuilder(lowerHrp.Length + 1 + values.Length + 6);
        chars.Append(lowerHrp).Append('1');
        foreach (var v in values) chars.Append(Charset[v]);
        foreach (var v in checksum) chars.Append(Charset[v]);
        return hrp.Any(char.IsUpper) ? chars.ToString().ToUpperInvariant() : chars.ToString();
    }

    /// <summary>The human-readable part (lowercase) and the data, or null when the text is not valid Bech32.</summary>
    public static (string Hrp, byte[] Data)? Decode(string text)
    {
        if (text.Any(c => c < 33 || c > 126)) return null;
        if (text.Any(char.IsLower) && text.Any(char.IsUpper)) return null;
        var lower = text.ToLowerInvariant();
        var separator = lower.LastIndexOf('1');
        if (separator < 1 || separator + 7 > lower.Length) return null;
        var hrp = lower[..separator];
        var values = new byte[lower.Length - separator - 1];
        for (var i = 0; i < values.Length; i++)
        {
            var index = Charset.IndexOf(lower[separator + 1 + i]);
            if (index < 0) return null;
            values[i] = (byte)index;
        }
        if (Polymod(Expand(hrp).Concat(values)) != 1) return null;
        var data = ConvertBits(values.AsSpan(0, values.Length - 6), 5, 8, pad: false);
        return data is null ? null : (hrp, data);
    }

    private static byte[] Checksum(string hrp, byte[] values)
    {
        var polymod = Polymod(Expand(hrp).Concat(values).Concat(new byte[6])) ^ 1;
        var checksum = new byte[6];
        for (var i = 0; i < 6; i++) checksum[i] = (byte)((polymod >> (5 * (5 - i))) & 31);
        return checksum;
    }

    private static IEnumerable<byte> Expand(string hrp) =>
        hrp.Select(c => (byte)(c >> 5)).Append((byte)0).Concat(hrp.Select(c => (byte)(c & 31)));

    private static uint Polymod(IEnumerable<byte> values)
    {
        uint chk = 1;
        foreach (var v in values)
        {
            var top = chk >> 25;
            chk = ((chk & 0x1ffffff) << 5) ^ v;
            for (var i = 0; i < 5; i++) if (((top >> i) & 1) != 0) chk ^= Generator[i];
        }
        return chk;
    }

    private static byte[]? ConvertBits(ReadOnlySpan<byte> data, int fromBits, int toBits, bool pad)
    {
        var acc = 0;
        var bits = 0;
        var result = new List<byte>();
        var maxValue = (1 << toBits) - 1;
        foreach (var value in data)
        {
            if (value >> fromBits != 0) return null;
            acc = (acc << fromBits) | value;
            bits += fromBits;
            while (bits >= toBits)
            {
                bits -= toBits;
                result.Add((byte)((acc >> bits) & maxValue));
            }
        }
        if (pad)
        {
            if (bits > 0) result.Add((byte)((acc << (toBits - bits)) & maxValue));
        }
        else if (bits >= fromBits || ((acc << (toBits - bits)) & maxValue) != 0) return null;
        return result.ToArray();
    }
}
