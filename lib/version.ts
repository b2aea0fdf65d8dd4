/** Version reported to Kong for every plugin of the suite (must be x.y.z; Kong refuses others). */
export const VERSION = '0.1.0';
