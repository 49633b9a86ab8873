using System.Globalization;

namespace FlagService.Infrastructure.Http;

public static class TextLength
{
    // Length limits ("at most 255 characters") count what a person sees as characters: text
    // elements (grapheme clusters). A thumbs-up with a skin tone is one, not two code points or four
    // UTF-16 units, so a name of 255 emoji fits.
    public static int Of(string value)
    {
        // Below U+0300 every UTF-16 unit is a character of its own (no surrogates, no combining
        // marks), except CR LF, which is one text element: the common case needs no segmentation.
        foreach (var c in value)
        {
            if (c >= '\u0300' || c == '\r')
            {
                return new StringInfo(value).LengthInTextElements;
            }
        }
        return value.Length;
    }
}
