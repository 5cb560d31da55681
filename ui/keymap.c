/*
 * Key translation for the front ends: SDL scancodes (USB HID usage ids) and X11 keysyms (what
 * RFB clients send) to Linux input codes, and Linux codes to US-layout characters for the
 * text consoles.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "ui/input.h"

/* US layout: characters of the Linux key codes 0..57 without and with shift. */
static const char us_plain[] = "\0\x1b" "1234567890-=\b\t" "qwertyuiop[]\r\0" "asdfghjkl;'`\0\\"
                               "zxcvbnm,./\0*\0 ";
static const char us_shift[] = "\0\x1b" "!@#$%^&*()_+\b\t" "QWERTYUIOP{}\r\0" "ASDFGHJKL:\"~\0|"
                               "ZXCVBNM<>?\0*\0 ";

char keymap_linux_to_ascii(int code, bool shift)
{
    if (code < 0 || code >= (int)sizeof(us_plain) - 1) {
        return 0;
    }
    return shift ? us_shift[code] : us_plain[code];
}

/* Linux codes of the letters a..z. */
static const uint8_t letter_codes[26] = {
    30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50,
    49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45, 21, 44,
};

/* USB HID usage ids 30..99 (digits, editing, function and keypad keys). */
static const uint8_t hid_30_to_99[70] = {
    2, 3, 4, 5, 6, 7, 8, 9, 10, 11,          /* 1..9, 0 */
    28, 1, 14, 15, 57, 12, 13, 26, 27, 43,   /* Return Esc BS Tab Space - = [ ] \ */
    43, 39, 40, 41, 51, 52, 53, 58,          /* NonUS# ; ' ` , . / CapsLock */
    59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 87, 88,   /* F1..F12 */
    99, 70, 119, 110, 102, 104, 111, 107, 109,        /* PrtSc ScrLk Pause Ins Home PgUp Del End PgDn */
    106, 105, 108, 103,                      /* Right Left Down Up */
    69, 98, 55, 74, 78, 96,                  /* NumLock KP/ KP* KP- KP+ KPEnter */
    79, 80, 81, 75, 76, 77, 71, 72, 73, 82, 83,   /* KP1..KP9 KP0 KP. */
};

int keymap_sdl_scancode_to_linux(int sc)
{
    static const uint8_t mods[8] = { 29, 42, 56, 125, 97, 54, 100, 126 };

    if (sc >= 4 && sc <= 29) {
        return letter_codes[sc - 4];
    }
    if (sc >= 30 && sc <= 99) {
        return hid_30_to_99[sc - 30];
    }
    if (sc == 100) {
        return 86;                           /* KEY_102ND */
    }
    if (sc == 101) {
        return 127;                          /* KEY_COMPOSE */
    }
    if (sc >= 224 && sc <= 231) {
        return mods[sc - 224];
    }
    return 0;
}

int keymap_x11_keysym_to_linux(uint32_t sym)
{
    static const struct { uint32_t sym; uint8_t code; } special[] = {
        { 0xff08, 14 }, { 0xff09, 15 }, { 0xff0d, 28 }, { 0xff1b, 1 }, { 0xff13, 119 },
        { 0xff14, 70 }, { 0xff15, 99 }, { 0xff50, 102 }, { 0xff51, 105 }, { 0xff52, 103 },
        { 0xff53, 106 }, { 0xff54, 108 }, { 0xff55, 104 }, { 0xff56, 109 }, { 0xff57, 107 },
        { 0xff61, 99 }, { 0xff63, 110 }, { 0xff67, 127 }, { 0xff7f, 69 }, { 0xff8d, 96 },
        { 0xffaa, 55 }, { 0xffab, 78 }, { 0xffad, 74 }, { 0xffae, 83 }, { 0xffaf, 98 },
        { 0xffe1, 42 }, { 0xffe2, 54 }, { 0xffe3, 29 }, { 0xffe4, 97 }, { 0xffe5, 58 },
        { 0xffe7, 125 }, { 0xffe8, 126 }, { 0xffe9, 56 }, { 0xffea, 100 }, { 0xffeb, 125 },
        { 0xffec, 126 }, { 0xfe03, 100 }, { 0xffff, 111 },
    };
    static const uint8_t keypad_digits[10] = { 82, 79, 80, 81, 75, 76, 77, 71, 72, 73 };

    if (sym >= 'a' && sym <= 'z') {
        return letter_codes[sym - 'a'];
    }
    if (sym >= 'A' && sym <= 'Z') {
        return letter_codes[sym - 'A'];
    }
    if (sym > 0x20 && sym < 0x7f) {
        for (int code = 0; code < (int)sizeof(us_plain) - 1; code++) {
            if (us_plain[code] == (char)sym || us_shift[code] == (char)sym) {
                return code;
            }
        }
        return 0;
    }
    if (sym == ' ') {
        return 57;
    }
    if (sym >= 0xffbe && sym <= 0xffc7) {
        return 59 + (sym - 0xffbe);          /* F1..F10 */
    }
    if (sym == 0xffc8 || sym == 0xffc9) {
        return 87 + (sym - 0xffc8);          /* F11, F12 */
    }
    if (sym >= 0xffb0 && sym <= 0xffb9) {
        return keypad_digits[sym - 0xffb0];
    }
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        if (special[i].sym == sym) {
            return special[i].code;
        }
    }
    return 0;
}
