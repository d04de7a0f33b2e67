#ifndef LANEKIOSK_CSDL2_SHIM_H
#define LANEKIOSK_CSDL2_SHIM_H
#include <SDL2/SDL.h>
#include <SDL2/SDL_ttf.h>

// Function-like macros Swift does not import, as functions. Only here: no
// other module includes SDL.

/// SDL_WINDOWPOS_CENTERED_DISPLAY(index): centre a window on display `index`.
static inline int lanekiosk_windowpos_centered_display(int index) {
    return (int)SDL_WINDOWPOS_CENTERED_DISPLAY(index);
}

#endif
